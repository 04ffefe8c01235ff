"""The one `ToolCaller` a worker holds: each call checked in order, then sent by its type.

Input: a `ToolCall`. Output: the tool's JSON output, or a `ToolError` with every secret value
masked. The order, always the same (SPEC §4 guarantee 4):

1. circuit breaker of the call's profile (`breaker`): open → ``circuit-open``, nothing called;
2. the input against ``inputSchema`` (`schemas`): ``invalid-input``, nothing called;
3. egress of the tool's address (``endpoint``, or the MCP server) under the profile (`egress`):
   ``refused``, no socket opened. The HTTP caller checks every redirect hop again;
4. the call itself, by ``tool.type`` through a registry of callers: ``http`` (`http`),
   ``python`` (`python`), ``mcp`` (a caller injected by the constructor; without one, an MCP
   tool is ``unavailable``);
5. the output against ``outputSchema``: ``invalid-output``.
Only failures of the tool itself (``BREAKER_FAILURES``) count against its breaker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from agentflow.bundle.tool import ToolType
from agentflow.runtime.secrets import Redactor, Secrets
from agentflow.runtime.tools.base import Json, ToolCall, ToolCaller, ToolError
from agentflow.runtime.tools.breaker import Breakers, Clock, outcome_of
from agentflow.runtime.tools.egress import require_egress
from agentflow.runtime.tools.http import HttpLimits, HttpToolCaller, redacted
from agentflow.runtime.tools.python import Observe, PythonToolCaller
from agentflow.runtime.tools.schemas import check_input, check_output


class ToolCallers:
    """Breaker, input schema, egress, call by type, output schema (see the module docstring).

    ``secrets`` resolves header secrets when a call is made; ``redactor`` (a fresh one unless
    given) learns every value resolved, and masks them in every error raised. ``mcp`` is the
    MCP caller (`agentflow.runtime.tools.mcp`), injected so this module does not depend on it;
    ``python`` defaults to `PythonToolCaller.from_environment` (``AF_TOOLS_PATH``).
    """

    def __init__(
        self,
        secrets: Secrets,
        clock: Clock,
        *,
        redactor: Redactor | None = None,
        mcp: ToolCaller | None = None,
        python: ToolCaller | None = None,
        http_limits: HttpLimits | None = None,
        observe_sandbox: Observe | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.redactor = redactor if redactor is not None else Redactor()
        self._breakers = Breakers(clock)
        log = logger if logger is not None else logging.getLogger("agentflow.runtime.tools")
        callers: dict[ToolType, ToolCaller] = {
            "http": HttpToolCaller(
                secrets, self.redactor, limits=http_limits or HttpLimits(), logger=log
            ),
            "python": python
            if python is not None
            else PythonToolCaller.from_environment(observe=observe_sandbox),
        }
        if mcp is not None:
            callers["mcp"] = mcp
        self._callers: Mapping[ToolType, ToolCaller] = callers

    @property
    def breakers(self) -> Breakers:
        return self._breakers

    async def call(self, call: ToolCall) -> Json:
        try:
            return await self._call(call)
        except ToolError as error:
            raise redacted(error, self.redactor) from None

    async def _call(self, call: ToolCall) -> Json:
        caller = self._callers.get(call.tool.type)
        if caller is None:
            raise ToolError(
                "unavailable",
                f"tool {call.tool.name!r} is of type {call.tool.type}, and this runtime was "
                "started without a caller for that type",
                retryable=False,
            )
        profile_id, settings = call.profile.id, call.profile.circuit_breaker
        self._breakers.admit(profile_id, settings)
        failure: BaseException | None = None
        try:
            check_input(call, redact=self.redactor.redact)
            _check_egress(call)
            output = await caller.call(call)
            check_output(call, output, redact=self.redactor.redact)
            return output
        except BaseException as error:
            failure = error
            raise
        finally:
            self._breakers.record(profile_id, settings, outcome_of(failure))


def _check_egress(call: ToolCall) -> None:
    tool = call.tool
    address = tool.endpoint if tool.type == "http" else tool.mcp.server if tool.mcp else None
    if address is not None:
        require_egress(address, call.profile)
