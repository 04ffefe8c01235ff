"""JSON Schemas that users write inside resources, checked against the metaschema.   AF211

Input: a `Document`. Output: diagnostics, and the paths they point at. Tool ``inputSchema`` and
``outputSchema``, workflow ``input.schema``, step ``output.schema`` and planner ``outputSchema``
must be valid JSON Schema (draft 2020-12 unless they name another ``$schema``); errors point
inside the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load.document import Document

_SCHEMA_KEYS = frozenset({"inputSchema", "outputSchema"})
_SCHEMA_PARENTS = frozenset({"input", "output"})
_JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
_KINDS_WITH_SCHEMAS = frozenset({"Tool", "Workflow"})


def check_documents(document: Document, report: Report) -> set[YamlPath]:
    """Report invalid user schemas; returns the paths reported."""
    reported: set[YamlPath] = set()
    kind = document.data.get("kind")
    if not isinstance(kind, str) or kind not in _KINDS_WITH_SCHEMAS:
        return reported
    for path, schema in find_user_schemas(document.data.get("spec"), ("spec",)):
        reported |= check_schema(document, path, schema, report)
    return reported


def find_user_schemas(data: Any, path: YamlPath) -> Iterator[tuple[YamlPath, dict[str, Any]]]:
    """Every JSON Schema a user wrote below ``data``, with its path."""
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield from find_user_schemas(item, (*path, index))
        return
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        is_schema = key in _SCHEMA_KEYS or (
            key == "schema" and path and path[-1] in _SCHEMA_PARENTS
        )
        if is_schema and isinstance(value, dict):
            yield (*path, key), value
        elif not is_schema:
            yield from find_user_schemas(value, (*path, key))


def check_schema(
    document: Document, path: YamlPath, schema: dict[str, Any], report: Report
) -> set[YamlPath]:
    from jsonschema import Draft202012Validator, validators  # heavy: only when there are schemas

    declared = schema.get("$schema")
    validator_class = (
        validators.validator_for(schema, default=Draft202012Validator)
        if isinstance(declared, str)
        else Draft202012Validator  # the metaschema reports others
    )
    meta = validator_class(validator_class.META_SCHEMA)
    reported: set[YamlPath] = set()
    for error in meta.iter_errors(schema):
        where = (*path, *error.absolute_path)
        if document.is_rejected(where):
            continue  # an alias or a tag: the loader reported it already
        reported.add(where)
        message, hint = error.message, None
        if (
            error.absolute_path
            and error.absolute_path[-1] == "type"
            and isinstance(error.instance, str)
        ):
            message = f"unknown JSON Schema type {error.instance!r}"
            hint = did_you_mean(error.instance, _JSON_TYPES)
        report.add(
            codes.BAD_USER_SCHEMA,
            document.file,
            document.span(where),
            f"invalid JSON Schema: {message}",
            hint=hint,
        )
    return reported


def json_type_of(value: Any) -> str | None:
    """The JSON Schema type of a plain value: ``boolean``, ``integer``, ``number``, ``string``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else None
