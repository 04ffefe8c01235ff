"""Differential test: our CEL engine and cel-python (celpy) agree on a corpus of conditions.

Each condition is compiled the way `af validate` compiles it (type-checked against the JSON
Schemas below, then serialized), loaded by a runtime environment whose variables are plain
``dyn``, and evaluated on JSON contexts. celpy evaluates the same text independently. Both must
give the same result, or both must fail (a missing key, an index out of range).

`KNOWN_DIFFERENCES` pins where they part on purpose: numbers compare naturally across int and
double in Google's CEL runtimes (and in our checker), while celpy raises on some of these
comparisons. JSON has one number
type, so an output field declared ``number`` may arrive as ``1``: that is why the runtime must
evaluate with the chosen engine, not with celpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import celpy  # cel-python, a dev dependency
import pytest
from cel_expr_python import cel

from agentflow.compiler.cel.engine import Checked, Engine
from agentflow.compiler.cel.schema_types import SchemaTypes

OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "intent": {"type": "string"},
        "confidence": {"type": "number"},
        "hits": {"type": "integer"},
        "items": {"type": "array", "maxItems": 10, "items": {"type": "string"}},
        "details": {
            "type": "object",
            "properties": {"source": {"type": "string"}, "fresh": {"type": "boolean"}},
        },
        "tags": {
            "type": "array",
            "maxItems": 5,
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "score": {"type": "number"}},
            },
        },
        "reason": {"type": ["string", "null"]},
        "extra": {"type": "object"},
    },
}
INPUT_SCHEMA = {
    "type": "object",
    "properties": {"ticket": {"type": "string"}, "priority": {"type": "integer"}},
}

CONTEXTS: dict[str, dict[str, Any]] = {
    "question": {
        "output": {
            "intent": "question",
            "confidence": 0.92,
            "hits": 3,
            "items": ["faq", "kb"],
            "details": {"source": "kb-eu", "fresh": True},
            "tags": [{"name": "billing", "score": 0.7}, {"name": "refund", "score": 0.2}],
            "reason": None,
            "extra": {"region": "eu", "attempts": 2},
        },
        "input": {"ticket": "Refund please", "priority": 2},
        "state": {"attempts": 1, "history": ["classify"]},
        "env": {"fast_path": True, "tier": "gold"},
    },
    "complaint": {
        "output": {
            "intent": "complaint",
            "confidence": 0.35,
            "hits": 0,
            "items": [],
            "details": {"source": "web", "fresh": False},
            "tags": [],
            "reason": "timeout upstream",
            "extra": {},
        },
        "input": {"ticket": "", "priority": 5},
        "state": {},
        "env": {"fast_path": False},
    },
}

CORPUS = [
    "output.intent == 'question' && output.confidence >= 0.8",
    "output.intent != 'question' || output.confidence < 0.5",
    "output.hits > 0",
    "output.hits == 0 || size(output.items) == output.hits - 1",
    "size(output.items) > 0 && output.items[0] == 'faq'",
    "'kb' in output.items",
    "output.items.exists(i, i.startsWith('k'))",
    "output.items.all(i, size(i) >= 2)",
    "output.items.exists_one(i, i == 'faq')",
    "output.items.map(i, i + '!').exists(i, i == 'kb!')",
    "output.items.filter(i, i.contains('a')).size() == 1",
    "output.details.fresh && output.details.source.startsWith('kb')",
    "output.details.source.endsWith('eu') || output.details.source == 'web'",
    "output.details.source.matches('^kb-[a-z]+$')",
    "has(output.extra.region) && output.extra.region == 'eu'",
    "has(output.extra.attempts) ? output.extra.attempts > 1 : true",
    "output.tags.exists(t, t.name == 'billing' && t.score > 0.5)",
    "output.tags.all(t, t.score <= 1.0)",
    "output.reason == null",
    "output.reason != null && output.reason.contains('time')",
    "input.ticket.contains('Refund')",
    "size(input.ticket) == 0 || input.priority < 3",
    "input.priority * 2 >= 4",
    "input.priority % 2 == 0",
    "-input.priority < 0",
    "state.attempts < 3",
    "has(state.attempts) && state.attempts < 3",
    "env.fast_path == true",
    "env.fast_path && env.tier == 'gold'",
    "!(output.confidence > 0.9)",
    "output.confidence > 0.5 ? output.intent == 'question' : output.hits == 0",
    "string(output.hits) == '3'",
    "int(output.confidence * 100.0) >= 90",
    "double(input.priority) / 2.0 > 0.9",
    "[1, 2, 3].map(x, x * x).exists(x, x == 9)",
    "{'a': 1, 'b': 2}.exists(k, k == 'b')",
    "output.intent in ['question', 'complaint']",
    "size(output.extra) >= 0",
    "output.tags.map(t, t.name).exists(n, n == 'refund')",
    "timestamp('2024-01-01T00:00:00Z') < timestamp('2024-06-01T00:00:00Z')",
    "duration('1h') > duration('30m')",
    "'abc'.size() == 3 && b'ab'.size() == 2",
    "output.items.size() == 2 || output.items.size() == 0",
    "output.hits + input.priority == 5",
    "1u + 2u == 3u",
    "output.details.source > 'a'",
    "type(output.hits) == int",
    "dyn(output.hits) == output.hits",
    "output.items[5] == 'x'",
    "input.priority / 0 == 1",
    "output.extra.missing == 1",
]

KNOWN_DIFFERENCES = [
    # (condition, context, our result): celpy raises on == across int and double, and on an
    # ordering with the int on the left (with the double on the left it happens to work).
    ("1 <= output.confidence", "question", False),
    ("output.confidence == 1", "question", False),
    ("input.priority < 2.5", "question", True),
    ("input.priority in [2.0, 3.0]", "question", True),
    ("output.confidence >= 0.8", "integral", True),
]
INTEGRAL = {**CONTEXTS["question"], "output": {**CONTEXTS["question"]["output"], "confidence": 1}}

Outcome = tuple[str, Any]


def _ours(condition: str, context: Mapping[str, Any]) -> Outcome:
    types = SchemaTypes()
    variables = {
        "output": types.declare("output", OUTPUT_SCHEMA),
        "input": types.declare("input", INPUT_SCHEMA),
        "state": "map<string, dyn>",
        "env": "map<string, dyn>",
    }
    checked = Engine(types).compile(condition, variables)
    assert isinstance(checked, Checked), f"{condition!r} does not check: {checked}"
    runtime = cel.NewEnv(variables=dict.fromkeys(variables, cel.Type.DYN))
    result = runtime.deserialize(checked.serialized).eval(data=dict(context))
    if result.type() == cel.Type.ERROR:  # evaluation errors are values, as CEL specifies
        return "error", None
    return "value", result.value()


def _celpy(condition: str, context: Mapping[str, Any]) -> Outcome:
    env = celpy.Environment()
    program = env.program(env.compile(condition))
    activation = {name: celpy.json_to_cel(value) for name, value in context.items()}
    try:
        result = program.evaluate(activation)
    except celpy.CELEvalError:
        return "error", None
    if isinstance(result, celpy.CELEvalError):
        return "error", None
    return "value", bool(result) if isinstance(result, celpy.celtypes.BoolType) else result


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) * len(CONTEXTS) >= 40
    assert len(set(CORPUS)) == len(CORPUS)


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("condition", CORPUS)
def test_both_engines_agree(condition: str, context: str) -> None:
    ours, theirs = _ours(condition, CONTEXTS[context]), _celpy(condition, CONTEXTS[context])
    assert ours == theirs, f"{condition!r} on {context}: ours {ours}, celpy {theirs}"


@pytest.mark.parametrize(("condition", "context", "expected"), KNOWN_DIFFERENCES)
def test_numbers_compare_naturally_where_celpy_raises(
    condition: str, context: str, expected: bool
) -> None:
    data = INTEGRAL if context == "integral" else CONTEXTS[context]
    assert _ours(condition, data) == ("value", expected)
    assert _celpy(condition, data) == ("error", None)
