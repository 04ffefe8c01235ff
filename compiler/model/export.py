"""Schema export: the kind models → published JSON Schemas for editors and CI.

Input: the pydantic models of `model/` (`KIND_MODELS`). Output: `schemas/<kind>.schema.json`, one
per kind, plus `schemas/resource.schema.json` (any resource, picked by `kind`), in JSON Schema
draft-07, the dialect yaml-language-server reads. The models stay the single source of truth: the
files are generated, and `--check` (run in CI and by `tests/compiler/model/test_export.py`)
fails when they drift.

    python -m agentflow.compiler.model.export [--check] [OUT_DIR]      (OUT_DIR: ./schemas)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from agentflow.compiler.model.resources import API_VERSION, KIND_MODELS

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
BASE_ID = "https://agentflow.dev/schemas/v1/"
RESOURCE_FILE = "resource.schema.json"
REGENERATE = "python -m agentflow.compiler.model.export"


def schema_file(kind: str) -> str:
    """The published file name of a kind: kebab-case, ``TemplateInstance`` →
    ``template-instance.schema.json``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", kind).lower() + ".schema.json"


class _Draft07Schema(GenerateJsonSchema):
    """pydantic's generator, steered towards what draft-07 readers understand."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        # Field titles derived from names ("Maxattempts") only add noise to editor hovers.
        return False

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # pydantic renders `dict[Name, X]` as `patternProperties` alone, which lets keys that
        # miss the pattern through. `propertyNames` + `additionalProperties` rejects them, as
        # the model does, and gives editors a completion target for the values.
        json_schema = super().dict_schema(schema)
        patterns = json_schema.get("patternProperties")
        if (
            isinstance(patterns, dict)
            and len(patterns) == 1
            and "additionalProperties" not in json_schema
        ):
            ((pattern, values),) = patterns.items()
            del json_schema["patternProperties"]
            json_schema["propertyNames"] = {
                **json_schema.get("propertyNames", {}),
                "pattern": pattern,
            }
            json_schema["additionalProperties"] = values
        return json_schema

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        # `discriminator` is OpenAPI, not JSON Schema: each branch's `const` already decides.
        json_schema = super().tagged_union_schema(schema)
        json_schema.pop("discriminator", None)
        return json_schema

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        json_schema = super().generate(schema, mode)
        definitions = json_schema.pop("$defs", None)
        if definitions is not None:
            json_schema["definitions"] = definitions
        isolated: JsonSchemaValue = _isolate_refs(json_schema)
        return isolated


def _isolate_refs(node: Any) -> Any:
    """Move `$ref` siblings out: draft-07 ignores every keyword next to a `$ref`."""
    if isinstance(node, list):
        return [_isolate_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _isolate_refs(value) for key, value in node.items()}
    if "$ref" in node and len(node) > 1:
        ref = node.pop("$ref")
        node["allOf"] = [{"$ref": ref}, *node.get("allOf", [])]
    return node


def _kind_schema(kind: str) -> dict[str, Any]:
    model = KIND_MODELS[kind]
    json_schema = model.model_json_schema(
        by_alias=True,
        ref_template="#/definitions/{model}",
        schema_generator=_Draft07Schema,
        mode="validation",
    )
    json_schema["title"] = f"AgentFlow {kind}"
    return json_schema


def _resource_schema(kinds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One schema for any resource: the kind schemas inlined, chosen by `kind` with if/then.

    Inlined rather than referenced across files: a relative `$ref` resolves against `$id`
    (agentflow.dev), so readers would look for it on the network, not in the neighbouring file.
    """
    definitions: dict[str, Any] = {}
    for kind, json_schema in kinds.items():
        body = dict(json_schema)
        for name, definition in body.pop("definitions", {}).items():
            _add_definition(definitions, name, definition)
        for key in ("$schema", "$id"):
            body.pop(key, None)
        _add_definition(definitions, kind, body)
    return {
        "$schema": DRAFT_07,
        "$id": BASE_ID + RESOURCE_FILE,
        "title": "AgentFlow resource",
        "description": "Any AgentFlow resource; `kind` selects the schema of the rest.",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": API_VERSION, "description": "Always " + API_VERSION + "."},
            "kind": {"enum": list(kinds), "description": "The kind of resource."},
            "metadata": {"$ref": "#/definitions/Metadata"},
            "spec": {"description": "The resource's body; its shape depends on `kind`."},
        },
        "additionalProperties": False,
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"$ref": f"#/definitions/{kind}"},
            }
            for kind in kinds
        ],
        "definitions": definitions,
    }


def _add_definition(definitions: dict[str, Any], name: str, definition: Any) -> None:
    if definitions.setdefault(name, definition) != definition:
        raise RuntimeError(f"two different schemas are named {name!r}")


def generate_schemas() -> dict[str, dict[str, Any]]:
    """Every published schema, by file name (``agent.schema.json`` …, ``resource.schema.json``)."""
    kinds = {kind: _kind_schema(kind) for kind in KIND_MODELS}
    schemas: dict[str, dict[str, Any]] = {}
    for kind, json_schema in kinds.items():
        name = schema_file(kind)
        schemas[name] = {"$schema": DRAFT_07, "$id": BASE_ID + name, **json_schema}
    schemas[RESOURCE_FILE] = _resource_schema(kinds)
    return schemas


def render_schema(json_schema: dict[str, Any]) -> str:
    """The file text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(json_schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale_files(out_dir: Path, schemas: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """The published files missing from `out_dir` or differing from the models."""
    stale = []
    for name, json_schema in sorted((schemas or generate_schemas()).items()):
        path = out_dir / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != render_schema(json_schema):
            stale.append(name)
    return stale


def write_schemas(out_dir: Path) -> list[str]:
    """Write the schemas that changed (each atomically); returns their file names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    schemas = generate_schemas()
    written = []
    for name in stale_files(out_dir, schemas):
        temp = out_dir / f".{name}.tmp"
        with temp.open("w", encoding="utf-8", newline="\n") as file:
            file.write(render_schema(schemas[name]))
        os.replace(temp, out_dir / name)
        written.append(name)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agentflow.compiler.model.export",
        description="Write the JSON Schemas of every resource kind, generated from the models.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files are out of date"
    )
    parser.add_argument(
        "out_dir", nargs="?", default="schemas", type=Path, help="default: ./schemas"
    )
    args = parser.parse_args(argv)
    out_dir: Path = args.out_dir
    if args.check:
        stale = stale_files(out_dir)
        for name in stale:
            sys.stderr.write(f"{out_dir / name}: out of date with compiler/model.py\n")
        if stale:
            sys.stderr.write(f"regenerate with: {REGENERATE} {out_dir}\n")
            return 1
        return 0
    for name in write_schemas(out_dir):
        sys.stdout.write(f"wrote {out_dir / name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
