"""The published JSON Schemas (`schemas/*.schema.json`): generated, draft-07, and in agreement
with the models on valid repositories, hand-written invalid documents and random mutations."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agentflow.compiler.model.export import (
    DRAFT_07,
    REGENERATE,
    RESOURCE_FILE,
    generate_schemas,
    render_schema,
    schema_file,
)
from agentflow.compiler.model.resources import KIND_MODELS
from tests.conftest import EXAMPLE_REPO, FIXTURES, ROOT

SCHEMAS = ROOT / "schemas"
GENERATED = generate_schemas()
PUBLISHED = sorted(GENERATED)
VALID_REPOS = (EXAMPLE_REPO, FIXTURES / "independent" / "clean")
# Keywords a draft-07 reader does not know (2019-09 / 2020-12), plus OpenAPI's discriminator.
NOT_DRAFT_07 = {
    "$defs",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
    "prefixItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "dependentRequired",
    "dependentSchemas",
    "minContains",
    "maxContains",
    "discriminator",
}


def _published(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return result


def _validator(name: str = RESOURCE_FILE) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(_published(name))


RESOURCE = _validator()


def _schema_accepts(document: Any, validator: jsonschema.Draft7Validator = RESOURCE) -> bool:
    return not any(validator.iter_errors(document))


def _model_accepts(document: Any) -> bool:
    kind = document.get("kind") if isinstance(document, dict) else None
    if not isinstance(kind, str) or kind not in KIND_MODELS:
        return False  # the envelope check rejects it before any model sees it
    try:
        KIND_MODELS[kind].model_validate(document)
    except ValidationError:
        return False
    return True


def _yaml_files() -> list[Path]:
    return sorted(p for repo in VALID_REPOS for p in repo.rglob("*.yaml"))


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


VALID_DOCUMENTS = {path.relative_to(ROOT).as_posix(): _load(path) for path in _yaml_files()}


# --- (a) the files on disk are the generator's output ----------------------------------------


def test_every_kind_is_published() -> None:
    assert PUBLISHED == sorted([*map(schema_file, KIND_MODELS), RESOURCE_FILE])
    assert "template-instance.schema.json" in PUBLISHED


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_file_is_up_to_date(name: str) -> None:
    path = SCHEMAS / name
    on_disk = path.read_text(encoding="utf-8") if path.is_file() else "<missing>"
    assert on_disk == render_schema(GENERATED[name]), (
        f"schemas/{name} is out of date with compiler/model.py; regenerate with: {REGENERATE}"
    )


def test_rendering_is_deterministic() -> None:
    assert generate_schemas() == GENERATED
    text = render_schema(GENERATED[RESOURCE_FILE])
    assert text.endswith("}\n") and '\n  "$schema"' in text


# --- (b) draft-07 through and through ---------------------------------------------------------


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_schema_is_valid_draft_07(name: str) -> None:
    schema = _published(name)
    assert schema["$schema"] == DRAFT_07
    assert schema["$id"] == f"https://agentflow.dev/schemas/v1/{name}"
    assert schema["title"] and schema["description"]
    jsonschema.Draft7Validator.check_schema(schema)


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_schema_uses_only_draft_07_keywords(name: str) -> None:
    schema = _published(name)
    for path, node in _subschemas(schema):
        assert not NOT_DRAFT_07 & node.keys(), f"{name}: {path} uses {NOT_DRAFT_07 & node.keys()}"
        ref = node.get("$ref")
        if ref is not None:
            assert len(node) == 1, f"{name}: {path}: draft-07 ignores keywords beside $ref"
            assert ref.startswith("#/definitions/"), f"{name}: {path}: $ref {ref}"
            assert ref.removeprefix("#/definitions/") in schema["definitions"], ref


def _subschemas(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in a schema, by JSON pointer; property names are not keywords."""
    if not isinstance(node, dict):
        return
    yield path, node
    for keyword, value in node.items():
        if keyword in ("properties", "patternProperties", "definitions"):
            for key, child in value.items():
                yield from _subschemas(child, f"{path}/{keyword}/{key}")
        elif keyword in ("items", "allOf", "anyOf", "oneOf") and isinstance(value, list):
            for index, child in enumerate(value):
                yield from _subschemas(child, f"{path}/{keyword}/{index}")
        elif keyword in ("default", "const", "enum", "examples", "required"):
            continue
        elif isinstance(value, dict):
            yield from _subschemas(value, f"{path}/{keyword}")


def test_aliases_are_the_property_names() -> None:
    definitions = _published(RESOURCE_FILE)["definitions"]
    assert "maxAttempts" in definitions["Retry"]["properties"]
    assert "inputSchema" in definitions["HttpTool"]["properties"]
    assert "afVersion" in definitions["ProjectSpec"]["properties"]
    assert "max_attempts" not in definitions["Retry"]["properties"]


def test_forbidden_extras_are_closed() -> None:
    for name, definition in _published(RESOURCE_FILE)["definitions"].items():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition["additionalProperties"] is False, name


def test_permissions_keep_their_property_names_pattern() -> None:
    definitions = _published(RESOURCE_FILE)["definitions"]
    for owner in ("HttpTool", "Role"):
        permissions = definitions[owner]["properties"]["permissions"]
        assert permissions["propertyNames"]["pattern"].startswith("^(network\\.")
        assert "description" in permissions


def test_behavior_tree_nodes_are_one_of_single_key_objects() -> None:
    definitions = _published(RESOURCE_FILE)["definitions"]
    root = definitions["BtWorkflow"]["properties"]["root"]
    assert [ref["$ref"].rsplit("/", 1)[1] for ref in root["oneOf"]] == [
        "SequenceN",
        "SelectorN",
        "ParallelN",
        "ConditionN",
        "ActionN",
        "ConditionalSelectorN",
    ]
    for branch in root["oneOf"]:
        node = definitions[branch["$ref"].rsplit("/", 1)[1]]
        assert len(node["properties"]) == 1 and node["required"] == list(node["properties"])
        assert node["additionalProperties"] is False


def test_kind_schema_agrees_with_resource_schema() -> None:
    for path, document in VALID_DOCUMENTS.items():
        validator = _validator(schema_file(document["kind"]))
        assert _schema_accepts(document, validator), path


# --- (c) agreement with the models ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(VALID_DOCUMENTS))
def test_valid_file_is_accepted_by_models_and_schema(path: str) -> None:
    document = VALID_DOCUMENTS[path]
    assert _model_accepts(document), f"{path}: the models reject it (YAML 1.1 boolean?)"
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in RESOURCE.iter_errors(document)
    ]
    assert not errors, f"{path}: resource.schema.json rejects it: {errors}"


def test_the_valid_files_cover_every_kind_and_planner() -> None:
    kinds = {doc["kind"] for doc in VALID_DOCUMENTS.values()}
    assert kinds == set(KIND_MODELS)
    planners = {
        doc["spec"].get("planner") for doc in VALID_DOCUMENTS.values() if doc["kind"] == "Workflow"
    }
    assert {"fsm", "bt", "llm"} <= planners


def _example(name: str) -> dict[str, Any]:
    for path, document in VALID_DOCUMENTS.items():
        if path.startswith("examples/") and document["metadata"]["name"] == name:
            return copy.deepcopy(document)
    raise LookupError(name)


def test_fsm_workflow_without_planner_is_accepted() -> None:
    document = _example("support-triage")
    assert document["spec"].pop("planner") == "fsm"
    assert _model_accepts(document)
    assert _schema_accepts(document)


def _edit(name: str, path: str, value: Any = None, *, delete: bool = False) -> dict[str, Any]:
    """A copy of an example resource with one edit at a `/`-separated path."""
    document = _example(name)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
    node: Any = document
    for key in parents:
        node = node[key]
    if delete:
        del node[last]
    else:
        node[last] = value
    return document


INVALID = {
    # unknown fields
    "unknown spec field": _edit("classifier", "spec/colour", "red"),
    "unknown metadata field": _edit("classifier", "metadata/owner", "me"),
    "unknown top-level field": _edit("classifier", "status", {}),
    "snake_case instead of alias": _edit("classifier", "spec/retry/max_attempts", 3),
    "unknown state field": _edit("support-triage", "spec/states/classify/next", "escalate"),
    "fsm field in a bt workflow": _edit("priority-intake", "spec/initial_state", "start"),
    "fsm field in an llm workflow": _edit("smart-support", "spec/states", {}),
    "planner omitted from a bt spec": _edit("priority-intake", "spec/planner", delete=True),
    "two keys in one bt node": _edit(
        "support-triage",
        "spec",
        {
            "planner": "bt",
            "root": {"action": {"agent": "a"}, "sequence": []},
        },
    ),
    "empty bt node": _edit("support-triage", "spec", {"planner": "bt", "root": {}}),
    "unknown bt node": _edit("support-triage", "spec", {"planner": "bt", "root": {"loop": []}}),
    # wrong enum
    "agent type": _edit("classifier", "spec/type", "llama"),
    "retry backoff": _edit("classifier", "spec/retry/backoff", "random"),
    "tool type": _edit("kb-search", "spec/type", "ftp"),
    "planner": _edit("support-triage", "spec/planner", "dag"),
    "environment residency": _edit("support-desk", "spec/environments/dev/residency", "maybe"),
    "unknown kind": _edit("classifier", "kind", "Agnet"),
    "apiVersion": _edit("classifier", "apiVersion", "agentflow.dev/v2"),
    # wrong type
    "string for an integer": _edit("classifier", "spec/concurrency", "4"),
    "fraction for an integer": _edit("classifier", "spec/concurrency", 1.5),
    "boolean for a number": _edit("classifier", "spec/model/temperature", True),
    "string for a boolean": _edit("classifier", "spec/retry/jitter", "yes"),
    "string for a list": _edit("classifier", "spec/tools", "kb-search"),
    "number for a label": _edit("classifier", "metadata/labels/team", 7),
    "list for a mapping": _edit("support-triage", "spec/states", []),
    # missing required
    "agent type missing": _edit("classifier", "spec/type", delete=True),
    "http tool endpoint missing": _edit("kb-search", "spec/endpoint", delete=True),
    "initial_state missing": _edit("support-triage", "spec/initial_state", delete=True),
    "maxSteps missing": _edit("smart-support", "spec/llm/maxSteps", delete=True),
    "metadata name missing": _edit("classifier", "metadata/name", delete=True),
    "spec missing": _edit("classifier", "spec", delete=True),
    # patterns and bounds
    "name with capitals": _edit("classifier", "metadata/name", "Classifier"),
    "name too long": _edit("classifier", "metadata/name", "a" * 64),
    "duration": _edit("classifier", "spec/retry/initialDelay", "1 second"),
    "semver": _edit("kb-search", "spec/version", "2.1"),
    "state name": _edit("support-triage", "spec/final_states/0", "1st"),
    "environment name": _edit("support-desk", "spec/environments/Prod", {}),
    "entrypoint": _edit("sentiment", "spec/entrypoint", "supportdesk.tools.sentiment"),
    "temperature above 2": _edit("classifier", "spec/model/temperature", 3),
    "maxAttempts below 1": _edit("classifier", "spec/retry/maxAttempts", 0),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_document_is_rejected_by_models_and_schema(case: str) -> None:
    document = INVALID[case]
    assert not _model_accepts(document), f"{case}: the models accept it"
    assert not _schema_accepts(document), f"{case}: resource.schema.json accepts it"
    kind = document.get("kind")
    if kind in KIND_MODELS:
        assert not _schema_accepts(document, _validator(schema_file(kind))), case


def test_schema_checks_permission_names_the_models_leave_to_a_later_stage() -> None:
    # The models take any permission name; permissions.py reports AF212 for unknown ones.
    document = _edit("kb-search", "spec/permissions/network.ftp", ["x.example.com"])
    assert not _schema_accepts(document)
    document = _edit("kb-search", "spec/permissions/fs.tmp", "yes")
    assert not _schema_accepts(document)


# --- (d) random one-edit mutations: the models and the schema agree ---------------------------

# Subtrees whose content is checked by later stages, not by the models: the schema may be
# stricter there (permission names and values) or says nothing (user JSON Schemas, inputs).
_UNCHECKED = ("permissions",)
_VALUES = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        2.5,
        "",
        "x",
        "kb-search",
        "Kb_Search",
        "10s",
        "1.0.0",
        "fsm",
        "bt",
        "llm",
        "http",
        "off",
        [],
        ["a"],
        [{"action": {"agent": "a"}}],
        {},
        {"a": 1},
    ]
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _UNCHECKED:
                continue
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from _paths(value, (*path, index))


_BASES = list(VALID_DOCUMENTS.values())


@st.composite
def _mutated(draw: st.DrawFn) -> dict[str, Any]:
    document = copy.deepcopy(draw(st.sampled_from(_BASES)))
    path = draw(st.sampled_from([p for p in _paths(document) if p[0] not in ("kind",)]))
    node: Any = document
    for key in path[:-1]:
        node = node[key]
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        node[path[-1]] = draw(_VALUES)
    elif action == "delete":
        del node[path[-1]]
    elif isinstance(node[path[-1]], dict):
        node[path[-1]][draw(st.sampled_from(["extra", "maxAttempts", "type", "planner"]))] = draw(
            _VALUES
        )
    return document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_models_and_schema_agree_on_mutated_resources(document: dict[str, Any]) -> None:
    assert _model_accepts(document) == _schema_accepts(document), json.dumps(document)[:2000]
