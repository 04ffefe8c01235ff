"""CEL conditions (AF5xx): what the fixtures under tests/fixtures/cases/cel-* cannot show.

Block scalars (a `# expect:` marker would be part of the expression), hints, the compiled forms
a plan will carry, the JSON Schema → CEL type mapping, and robustness: hostile schemas and
expressions answer with diagnostics, never an exception, and the engine loads only when needed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentflow.compiler.cel.conditions import check_conditions
from agentflow.compiler.cel.engine import Checked, Engine
from agentflow.compiler.cel.positions import map_expression, split_lines
from agentflow.compiler.cel.schema_types import OPEN_OBJECT, SchemaTypes
from agentflow.compiler.cel.syntax import decode_checked
from agentflow.compiler.diagnostics.positions import Span
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import ROOT
from tests.repos import found, validate, write_repo

TOOL = """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {name: search}
spec:
  version: 1.0.0
  type: http
  endpoint: https://kb.example.com/search
  outputSchema:
    type: object
    properties:
      items: {type: array, maxItems: 20, items: {type: string}}
      confidence: {type: number}
  permissions: {network.http: [kb.example.com]}
  timeout: 10s
"""
AGENT = """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: worker}
spec:
  type: llm
  role: worker
  model: {provider: openai, name: gpt-4o-mini}
  tools: [search]
"""
POLICY = """\
apiVersion: agentflow.dev/v1
kind: Policy
metadata: {name: rbac}
spec:
  roles:
    worker:
      allowedTools: [search]
      permissions: {network.http: [kb.example.com]}
"""


def _workflow(transitions: str) -> str:
    return f"""\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {{name: flow}}
spec:
  input: {{schema: {{type: object, properties: {{ticket: {{type: string}}}}}}}}
  initial_state: search
  final_states: [done]
  states:
    search:
      agent: worker
      tool: search
      transitions:
{transitions}
        - target: done
    done: {{agent: worker, prompt: "Send it"}}
"""


def _transition(condition: str) -> str:
    return f'        - condition: "{condition}"\n          target: done'


def _repo(tmp_path: Path, transitions: str) -> Path:
    files = {
        "tools/search.yaml": TOOL,
        "agents/worker.yaml": AGENT,
        "policies/rbac.yaml": POLICY,
        "workflows/flow.yaml": _workflow(transitions),
    }
    return write_repo(tmp_path, files)


def test_literal_block_points_at_the_line_inside_the_block(tmp_path: Path) -> None:
    transitions = """\
        - condition: |
            output.items.exists(i,
              i.size() > 2) &&
              output.confidance > 0.5
          target: done"""
    diagnostics = validate(_repo(tmp_path, transitions))
    assert found(diagnostics) == [("AF502", "workflows/flow.yaml", 16, 22)]


def test_folded_block_points_at_the_line_inside_the_block(tmp_path: Path) -> None:
    transitions = """\
        - condition: >-
            output.confidence > 0.5 &&
            size(output.items) > 1 &&
            output.items[0] == 1
          target: done"""
    diagnostics = validate(_repo(tmp_path, transitions))
    assert found(diagnostics) == [("AF503", "workflows/flow.yaml", 16, 29)]
    assert "cannot compare string and int" in diagnostics[0].message


@pytest.mark.parametrize(
    ("condition", "hint"),
    [
        ("len(output.items) > 0", "CEL's function for this is size()"),
        ("output.items.length() > 0", "CEL's function for this is size()"),
        ("output.confidance > 0.5", "did you mean 'confidence'?"),
        ("inptu.ticket == 'x'", "did you mean 'input'?"),
        ("input.tikcet == 'x'", "did you mean 'ticket'?"),
        ("output.confidence == 'high'", "check the field's type in its schema"),
        ("size(output.items) + 0.5 > 1", "convert with double() or int()"),
        ("output.confidence", "compare it, e.g. output.score >= 0.8"),
    ],
)
def test_errors_carry_a_hint(tmp_path: Path, condition: str, hint: str) -> None:
    diagnostics = validate(
        _repo(tmp_path, f'        - condition: "{condition}"\n          target: done')
    )
    assert len(diagnostics) == 1, diagnostics
    assert diagnostics[0].hint is not None and hint in diagnostics[0].hint


def test_numbers_compare_naturally(tmp_path: Path) -> None:
    conditions = [
        "output.confidence >= 1",
        "output.confidence == 1",
        "1 < output.confidence",
        "size(output.items) > 0.5",
        "output.confidence != 2u",
        "output.confidence in [1, 2]",
    ]
    transitions = "\n".join(
        f'        - condition: "{c}"\n          target: done' for c in conditions
    )
    assert validate(_repo(tmp_path, transitions)) == []


def test_compiled_conditions_evaluate_on_plain_json(tmp_path: Path) -> None:
    """The checked form needs no schema messages: a runtime loads it with dyn variables."""
    from cel_expr_python import cel

    condition = "output.confidence >= 1 && output.items.exists(i, i == input.ticket)"
    repo = _repo(tmp_path, _transition(condition))
    snapshot = read_folder(repo)
    validation = validate_snapshot(snapshot)
    assert validation.report.diagnostics() == []
    compiled = check_conditions(validation.index, Report(), snapshot)
    key = ("Workflow", "flow", ("spec", "states", "search", "transitions", 0, "condition"))
    assert list(compiled) == [key]
    condition_form = compiled[key]
    assert condition_form.source == condition
    assert condition_form.result_type == "BOOL"
    assert dict(condition_form.variables)["state"] == OPEN_OBJECT

    runtime = cel.NewEnv(variables={"output": cel.Type.DYN, "input": cel.Type.DYN})
    program = runtime.deserialize(condition_form.checked)
    output = {"confidence": 1, "items": ["a", "b"]}  # an int where the schema says number
    assert program.eval(data={"output": output, "input": {"ticket": "b"}}).value() is True
    assert program.eval(data={"output": output, "input": {"ticket": "c"}}).value() is False


@pytest.mark.parametrize(
    ("schema", "signature"),
    [
        (None, "dyn"),
        ({"type": "string"}, "string"),
        ({"type": "integer"}, "int"),
        ({"type": "number"}, "double"),
        ({"type": ["integer", "number"]}, "double"),
        ({"type": "boolean"}, "bool"),
        ({"type": ["string", "null"]}, "google.protobuf.StringValue"),
        ({"enum": ["a", "b"]}, "string"),
        ({"type": "array", "items": {"type": "integer"}}, "list<int>"),
        ({"type": "array"}, "list<dyn>"),
        ({"type": "object"}, OPEN_OBJECT),
        ({"type": "object", "properties": {"a": {}}, "additionalProperties": True}, OPEN_OBJECT),
        ({"type": "object", "properties": {"first-name": {"type": "string"}}}, OPEN_OBJECT),
        ({"type": "object", "properties": {"in": {"type": "string"}}}, OPEN_OBJECT),
        ({"type": "object", "properties": {"a_b": {}, "aB": {}}}, OPEN_OBJECT),
        ({"$ref": "#/$defs/x"}, "dyn"),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, "dyn"),
        ({"type": ["string", "integer"]}, "dyn"),
        (True, "dyn"),
    ],
)
def test_json_schema_types(schema: Any, signature: str) -> None:
    assert SchemaTypes().declare("output", schema) == signature


def test_closed_objects_become_messages_with_their_fields() -> None:
    types = SchemaTypes()
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "object", "properties": {"c": {"type": "integer"}}},
            "d": {"type": "array", "items": {"type": "array"}},
        },
    }
    signature = types.declare("output", schema)
    assert types.declare("output", dict(schema)) == signature  # deduplicated by content
    displays = {info.display: info.fields for info in types.messages.values()}
    assert displays == {"output": ("a", "b", "d"), "output.b": ("c",)}
    engine = Engine(types)
    checked = engine.compile("output.b.c > 1 && output.d[0].size() > 0", {"output": signature})
    assert isinstance(checked, Checked) and checked.result_type == "BOOL"


def test_cosmetic_schema_edits_leave_the_compiled_form_alone() -> None:
    """Plan-cache keys (SPEC §3) must not move when a description or the key order does."""
    before = {
        "type": "object",
        "properties": {"score": {"type": "number"}, "tags": {"type": "array"}},
    }
    after = {
        "description": "The classifier's verdict.",
        "properties": {
            "tags": {"type": "array", "description": "Labels"},
            "score": {"type": "number"},
        },
        "type": "object",
    }
    forms = []
    for schema in (before, after, before, after):  # the engine writes maps in hash order
        types = SchemaTypes()
        checked = Engine(types).compile(
            "output.score > 0.5 && size(output.tags) > 0",
            {"output": types.declare("output", schema)},
        )
        assert isinstance(checked, Checked)
        forms.append(checked.serialized)
    assert len(set(forms)) == 1


def test_names_protobuf_would_reject_leave_the_object_open(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """protobuf refuses fields whose camelCase names collide, and says so on stderr."""
    types = SchemaTypes()
    schema = {"type": "object", "properties": {"a_b": {"type": "string"}, "aB": {}, "c": {}}}
    signature = types.declare("output", schema)
    checked = Engine(types).compile("output.a_b == 'x' && has(output.c)", {"output": signature})
    assert isinstance(checked, Checked)
    assert capfd.readouterr().err == ""


def test_positions_follow_escapes_and_fall_back_to_the_value() -> None:
    lines = split_lines('        - condition: "a == \\"x\\" && b"\n')
    source_map = map_expression('a == "x" && b', Span(1, 22), lines)
    assert source_map.at(12) == Span(1, 37)  # 'b', after two escaped quotes
    assert source_map.at(13) == Span(1, 38)  # the end: the closing quote
    rendered = map_expression("a == 0.8", Span(1, 22), ['        - condition: "a == {{ t }}"'])
    assert rendered.at(5) == Span(1, 22)  # a template's text differs: the value's start


def test_the_checked_form_decodes_with_positions() -> None:
    types = SchemaTypes()
    checked = Engine(types).compile("[1, 2].all(x, x > 0)", {})
    assert isinstance(checked, Checked)
    ast = decode_checked(checked.serialized)
    comprehension = ast.root
    assert comprehension.kind == "comprehension" and comprehension.name == "x"
    assert comprehension.operand is not None and len(comprehension.operand.args) == 2
    assert ast.positions[comprehension.id] == 10  # the macro call's "("


def test_limits_are_syntax_errors_not_crashes(tmp_path: Path) -> None:
    deep = "(" * 100 + "true" + ")" * 100
    diagnostics = validate(
        _repo(tmp_path, f'        - condition: "{deep}"\n          target: done')
    )
    assert [d.code for d in diagnostics] == ["AF501"]
    assert "nests too deeply" in diagnostics[0].message


_NAMES = ("a", "b", "in", "x-y", "_", "__", "a_b", "aB")
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_NAMES), inner, max_size=3)
    ),
    max_leaves=10,
)
_schemas = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(
                [
                    "string",
                    "integer",
                    "number",
                    "boolean",
                    "object",
                    "array",
                    "null",
                    ["string", "null"],
                ]
            ),
            "enum": st.lists(_json_values, max_size=3),
            "maxItems": st.integers(-1, 5) | st.text(max_size=2),
        },
    ),
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["object", "array", ["array", "null"], ["object", "null"]]),
            "properties": st.dictionaries(st.sampled_from(_NAMES), inner),
            "items": inner | _json_values,
            "additionalProperties": st.booleans() | inner,
        },
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schema=_schemas | _json_values,
    expression=st.sampled_from(
        [
            "output.a.b == 1",
            "output.a.exists(x, x.b.all(y, y))",
            "size(output) > 0",
            "output[0]",
            ")",
        ]
    ),
)
def test_any_schema_and_expression_answer_with_diagnostics(schema: Any, expression: str) -> None:
    types = SchemaTypes()
    signature = types.declare("output", schema)
    result = Engine(types).compile(expression, {"output": signature})
    if isinstance(result, Checked):
        decode_checked(result.serialized)
    else:
        assert all(error.line >= 1 and error.column >= 1 for error in result)


def test_the_engine_loads_only_when_there_is_cel(tmp_path: Path) -> None:
    """`af validate` stays fast: no CEL, no cel-expr-python, no protobuf."""
    repo = write_repo(tmp_path, {"agents/worker.yaml": AGENT})
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from agentflow.compiler.pipeline import validate_snapshot\n"
        "from agentflow.compiler.source.snapshot import read_folder\n"
        f"validate_snapshot(read_folder(Path({str(repo)!r})))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('cel_expr_python', 'google'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"
