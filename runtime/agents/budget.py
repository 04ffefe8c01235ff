"""Budgets and usage: what an agent step may spend, and what it spent.

Input: a `ChatRequest` about to be sent. Output: the tokens to reserve for it (`reservation`).
`Budget` is the protocol a budget store implements (per agent and period, from the agent's
ExecProfile ``budget``); `Usage` is what one step used, summed over its model and tool calls.

Guarantee: `reservation` never under-counts what the answer may take (its ``max_tokens``) and
adds an estimate of the prompt, so a budget refuses a call before it is sent rather than
finding out after.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Protocol

from agentflow.runtime.agents.base import ChatRequest

CHARS_PER_TOKEN = 4
"""A prompt's tokens, estimated from its characters (English text averages about four)."""


class BudgetExceeded(Exception):
    """A reservation the agent's budget cannot cover; the message says what remains."""


class Budget(Protocol):
    def reserve(self, agent: str, tokens: int) -> None:
        """Refuse, with `BudgetExceeded`, a call that may use ``tokens`` more than ``agent``
        has left in its period. An implementation may hold them until the next `spend`,
        which always follows, once per reservation (with zeros when the call failed)."""
        ...

    def spend(self, agent: str, tokens: int, dollars: float) -> None:
        """Record what ``agent`` used: a model call's tokens, or a tool call's cost."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    dollars: float = 0.0
    """The cost of the tool calls made (each tool's ``cost.perCall``); model calls carry no
    price in a profile, so they add tokens only."""
    model_calls: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(
        self, *, prompt: int = 0, completion: int = 0, dollars: float = 0.0, model_calls: int = 0
    ) -> Usage:
        return dataclasses.replace(
            self,
            prompt_tokens=self.prompt_tokens + prompt,
            completion_tokens=self.completion_tokens + completion,
            dollars=self.dollars + dollars,
            model_calls=self.model_calls + model_calls,
        )

    def to_json(self) -> dict[str, int | float]:
        return {
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "tokens": self.tokens,
            "dollars": self.dollars,
            "modelCalls": self.model_calls,
        }


def reservation(request: ChatRequest) -> int:
    """The tokens to reserve for ``request``: its ``max_tokens`` plus the prompt's estimate
    (messages, schema and functions, as sent)."""
    sent = [
        [m.role, m.content, [(c.name, c.arguments) for c in m.tool_calls]] for m in request.messages
    ]
    text = json.dumps([sent, request.response_schema, [f.parameters for f in request.functions]])
    return (request.max_tokens or 0) + -(-len(text) // CHARS_PER_TOKEN)
