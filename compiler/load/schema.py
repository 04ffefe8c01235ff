"""Schema: documents → typed, frozen resources.                                       AF2xx

Input: `Document`s from `yaml`. Output: `Resource`s (the pydantic model of each kind plus the
document it came from, for positions). Each pydantic error is mapped back through the document's
position map to the offending key or value; a document that fails validation blocks only itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load import permissions, user_schemas
from agentflow.compiler.load.document import Document
from agentflow.compiler.load.locate import locate
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.load.yaml import load_text
from agentflow.compiler.model.resources import API_VERSION, KIND_MODELS

_KIND_NAMES = tuple(KIND_MODELS)
"""A tuple, so that `in` compares: a document's kind may be unhashable (a mapping)."""


def invalid_names(
    documents: tuple[Document, ...], resources: tuple[Resource[Any], ...]
) -> frozenset[tuple[str, str]]:
    """(kind, name) of the documents that name themselves but did not become resources, and
    ``("Role", name)`` for each role of such a Policy."""
    valid = {id(r.doc) for r in resources}

    named = set()
    for document in documents:
        data = document.data
        metadata = data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        kind = data.get("kind")
        if id(document) in valid or kind not in _KIND_NAMES or not isinstance(name, str):
            continue
        named.add((str(kind), name))
        spec = data.get("spec")
        roles = spec.get("roles") if kind == "Policy" and isinstance(spec, dict) else None
        if isinstance(roles, dict):
            named.update(("Role", str(role)) for role in roles)
    return frozenset(named)


def validate_resources(
    documents: tuple[Document, ...], report: Report
) -> tuple[Resource[Any], ...]:
    resources = []
    for document in documents:
        resource = validate_document(document, report)
        if resource is not None:
            resources.append(resource)
    return tuple(resources)


def load_resource(file: str, text: str, report: Report) -> Resource[Any] | None:
    """The resource a text holds, loaded and validated as the file ``file`` would be."""
    document = load_text(file, text, report)
    return validate_document(document, report) if document is not None else None


def validate_document(document: Document, report: Report) -> Resource[Any] | None:
    data = document.data
    kind = data.get("kind")
    error_paths: set[YamlPath] = set()
    resource = None
    if _check_envelope(document, report):
        model_type = KIND_MODELS[kind]
        try:
            model = model_type.model_validate(data)
            resource = Resource(kind=kind, name=model.metadata.name, doc=document, model=model)
        except ValidationError as error:
            for details in error.errors(include_url=False):
                error_paths.add(_report_error(document, model_type, details, report))
    error_paths |= user_schemas.check_documents(document, report)
    error_paths |= permissions.check_declarations(document, report)
    _warn_yaml11_booleans(document, error_paths, report)
    return resource


def _check_envelope(document: Document, report: Report) -> bool:
    data = document.data
    ok = True
    api_version = data.get("apiVersion")
    if api_version is None:
        report.add(
            codes.MISSING_FIELD,
            document.file,
            document.span(()),
            "missing required field 'apiVersion'",
            hint=f"add 'apiVersion: {API_VERSION}'",
        )
        ok = False
    elif api_version != API_VERSION:
        report.add(
            codes.BAD_API_VERSION,
            document.file,
            document.span(("apiVersion",)),
            f"apiVersion {api_version!r} is not supported",
            hint=f"this compiler reads '{API_VERSION}'",
        )
        ok = False
    kind = data.get("kind")
    if kind is None:
        report.add(
            codes.MISSING_FIELD,
            document.file,
            document.span(()),
            "missing required field 'kind'",
            hint="one of: " + ", ".join(KIND_MODELS),
        )
        ok = False
    elif not isinstance(kind, str) or kind not in KIND_MODELS:
        report.add(
            codes.UNKNOWN_KIND,
            document.file,
            document.span(("kind",)),
            f"unknown kind {kind!r}",
            hint=did_you_mean(str(kind), KIND_MODELS),
        )
        ok = False
    return ok


_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean (true or false)",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "int_from_float": "an integer",
    "model_attributes_type": "a mapping",
}
_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("greater than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}
_CUSTOM_CODES = {
    "af_name": codes.BAD_NAME,
    "af_duration": codes.BAD_DURATION,
    "af_quantity": codes.BAD_QUANTITY,
    "af_semver": codes.BAD_SEMVER,
    "af_url": codes.BAD_URL,
}


def _report_error(
    document: Document, model_type: type[BaseModel], details: ErrorDetails, report: Report
) -> YamlPath:
    """Report one pydantic error at its key or value; returns the data path it names."""
    kind = details["type"]
    located = locate(model_type, document.data, details["loc"])
    path, here = located.path, located.value
    if document.is_rejected(path):
        return path  # an alias or a tag: the loader reported it already
    file = document.file
    ctx = details.get("ctx") or {}
    if kind == "missing":
        field = str(details["loc"][-1])
        report.add(
            codes.MISSING_FIELD,
            file,
            document.key_span(path[:-1]) if path[:-1] else document.span(()),
            f"missing required field '{field}'",
        )
    elif kind == "extra_forbidden":
        field = str(path[-1])
        report.add(
            codes.UNKNOWN_FIELD,
            file,
            document.key_span(path),
            f"unknown field '{field}'",
            hint=did_you_mean(field, located.parent_fields),
        )
    elif kind == "union_tag_invalid":
        _report_bad_tag(document, path, here, ctx, report)
    elif kind == "union_tag_not_found":
        field = _discriminator_field(ctx)
        if isinstance(here, dict) and field in here:  # present, but not a string
            report.add(
                codes.WRONG_TYPE,
                file,
                document.span((*path, field)),
                f"expected a string, got {_describe(here[field])}",
            )
        else:
            report.add(
                codes.MISSING_FIELD,
                file,
                document.key_span(path) if path else document.span(()),
                f"missing required field '{field}'",
            )
    elif kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",")]
        report.add(
            codes.INVALID_VALUE,
            file,
            document.span(path),
            f"{_show(here)} is not one of {expected}",
            hint=did_you_mean(str(here), [o for o in options if o]),
        )
    elif kind == "af_secret_literal":  # a string where only {secretRef: NAME} belongs
        report.add(
            codes.LITERAL_CREDENTIAL, file, document.span(path), details["msg"], hint=ctx["hint"]
        )
    elif kind == "af_approval_field":  # a step's field on an approval state (model.workflow)
        report.add(
            codes.APPROVAL_STEP_FIELD,
            file,
            document.key_span(path),
            details["msg"],
            hint=str(ctx.get("hint")),
        )
    elif kind.startswith("af_"):  # the pattern checks of model.py
        report.add(
            _CUSTOM_CODES.get(kind, codes.INVALID_VALUE),
            file,
            document.span(path),
            f"{_show(here)} is not a valid {ctx.get('what', 'value')}",
            hint=f"for example {ctx.get('example')}",
        )
    elif kind in _TYPE_NAMES:
        report.add(
            codes.WRONG_TYPE,
            file,
            document.span(path),
            f"expected {_TYPE_NAMES[kind]}, got {_describe(here)}",
            hint=_type_hint(document, path, kind, here),
        )
    elif kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        report.add(
            codes.INVALID_VALUE,
            file,
            document.span(path),
            f"{_show(here)} is out of range: must be {words} {ctx.get(key)}",
        )
    else:
        report.add(codes.INVALID_VALUE, file, document.span(path), details["msg"])
    return path


def _report_bad_tag(
    document: Document, path: YamlPath, here: Any, ctx: dict[str, Any], report: Report
) -> None:
    tag = str(ctx.get("tag"))
    expected = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
    discriminator = _discriminator_field(ctx)
    if discriminator == _NODE_KIND:  # behavior-tree node: the tag is the node's only key
        report.add(
            codes.INVALID_VALUE,
            document.file,
            document.key_span((*path, tag)),
            f"unknown behavior-tree node '{tag}'",
            hint=did_you_mean(tag, expected),
        )
        return
    report.add(
        codes.INVALID_VALUE,
        document.file,
        document.span((*path, discriminator)),
        f"{discriminator} {tag!r} is not one of {', '.join(map(repr, expected))}",
        hint=did_you_mean(tag, expected),
    )


_NODE_KIND = "node kind"
_CALLABLE_DISCRIMINATORS = {"_planner()": "planner", "_bt_node_kind()": _NODE_KIND}
"""Callable discriminators (model.py) by the field they read; pydantic names the function."""


def _discriminator_field(ctx: dict[str, Any]) -> str:
    name = str(ctx.get("discriminator", "")).strip("'")
    return _CALLABLE_DISCRIMINATORS.get(name, name)


def _type_hint(document: Document, path: YamlPath, kind: str, value: Any) -> str | None:
    if path in document.yaml11_booleans and kind == "bool_type":
        return f"write true or false; '{value}' is a boolean only in YAML 1.1"
    if kind == "string_type" and isinstance(value, int | float | bool):
        return f'quote it: "{value}"' if not isinstance(value, bool) else "quote it"
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({_show(value)})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _warn_yaml11_booleans(document: Document, error_paths: set[YamlPath], report: Report) -> None:
    for path in sorted(document.yaml11_booleans, key=str):
        if path in error_paths:
            continue
        value = _value_at(document.data, path)
        report.add(
            codes.YAML11_BOOLEAN,
            document.file,
            document.span(path),
            f"unquoted {value!r} is the string {value!r} here, but a boolean to YAML 1.1 tools",
            hint=f'quote it: "{value}"',
        )


def _value_at(data: Any, path: YamlPath) -> Any:
    for key in path:
        data = data[key]
    return data
