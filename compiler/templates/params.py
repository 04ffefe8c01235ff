"""Template parameters: declarations checked, instance values typed, before any rendering. AF7xx

Input: a Template's declared parameters and a TemplateInstance's values. Output: the values a
template renders with (defaults filled in, secrets as `SecretRef`) or None when any is wrong;
every problem is reported at the instance's parameter line (or, for a bad declaration, at the
template's). Secret values never reach a message: only their reference names do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from agentflow.bundle.secrets import SECRET_NAME, SecretRef
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.template import Parameter, TemplateInstanceSpec, TemplateSpec

Value = str | int | float | bool | SecretRef
_TYPE_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean (true or false)",
    "enum": "one of its values",
    "secret": "a secret reference {secretRef: NAME}",
}


def check_declarations(template: Resource[TemplateSpec], report: Report) -> None:
    """A template's own parameter list must be coherent (AF709)."""
    seen: set[str] = set()
    for i, parameter in enumerate(template.spec.parameters):
        path = ("spec", "parameters", i)
        problem = _declaration_problem(parameter, seen)
        seen.add(parameter.name)
        if problem is not None:
            field, message = problem
            report.add(
                codes.BAD_PARAMETER_DECLARATION,
                template.file,
                template.doc.span((*path, field)),
                f"parameter '{parameter.name}': {message}",
            )


def _declaration_problem(parameter: Parameter, seen: set[str]) -> tuple[str, str] | None:
    if parameter.name in seen:
        return "name", "declared twice"
    if parameter.type == "enum" and not parameter.values:
        return "type", "an enum needs a non-empty 'values' list"
    if parameter.values is not None and parameter.type != "enum":
        return "values", f"'values' applies to enums, not to {parameter.type}"
    bounded = parameter.minimum is not None or parameter.maximum is not None
    if bounded and parameter.type not in ("number", "integer"):
        return "type", f"minimum and maximum apply to numbers, not to {parameter.type}"
    if (
        parameter.minimum is not None
        and parameter.maximum is not None
        and parameter.minimum > parameter.maximum
    ):
        return "minimum", "minimum is above maximum"
    if parameter.default is not None:
        if parameter.type == "secret":
            return "default", "a secret has no default: instances pass a reference"
        if _type_problem(parameter, parameter.default) or _value_problem(
            parameter, parameter.default
        ):
            return "default", f"the default is not {_TYPE_WORDS[parameter.type]} in range"
    return None


def bind_parameters(
    instance: Resource[TemplateInstanceSpec], template: Resource[TemplateSpec], report: Report
) -> Mapping[str, Value] | None:
    """The values ``template`` renders with for ``instance``, or None after reporting why not."""
    given: dict[str, Any] = instance.spec.parameters
    declared = {p.name: p for p in template.spec.parameters}
    label = f"template {template.name} {template.spec.version}"
    ok = True
    for name in given:
        if name not in declared:
            ok = False
            report.add(
                codes.UNKNOWN_PARAMETER,
                instance.file,
                instance.doc.key_span(("spec", "parameters", name)),
                f"{label} has no parameter '{name}'",
                hint=did_you_mean(name, declared),
            )
    values: dict[str, Value] = {}
    for name, parameter in declared.items():
        if name not in given:
            if parameter.default is not None:
                values[name] = parameter.default
            elif parameter.required:
                ok = False
                where = ("spec", "parameters") if "parameters" in instance.doc.data["spec"] else ()
                report.add(
                    codes.MISSING_PARAMETER,
                    instance.file,
                    instance.doc.key_span(where) if where else instance.doc.key_span(("spec",)),
                    f"{label} requires parameter '{name}' ({parameter.type})",
                    hint=parameter.description or None,
                )
            continue
        value = _check_value(instance, parameter, given[name], report)
        if value is None:
            ok = False
        else:
            values[name] = value
    return MappingProxyType(values) if ok else None


def _check_value(
    instance: Resource[TemplateInstanceSpec], parameter: Parameter, value: Any, report: Report
) -> Value | None:
    span = instance.doc.span(("spec", "parameters", parameter.name))
    if parameter.type == "secret":
        return _secret(instance, parameter, value, report)
    if _type_problem(parameter, value):
        report.add(
            codes.PARAMETER_TYPE,
            instance.file,
            span,
            f"parameter '{parameter.name}' must be {_TYPE_WORDS[parameter.type]}, "
            f"got {json.dumps(value)[:60]}",
            hint=_values_hint(parameter),
        )
        return None
    problem = _value_problem(parameter, value)
    if problem is not None:
        report.add(
            codes.PARAMETER_VALUE,
            instance.file,
            span,
            f"parameter '{parameter.name}' {problem}",
            hint=_values_hint(parameter, value),
        )
        return None
    checked: Value = value
    return checked


def _secret(
    instance: Resource[TemplateInstanceSpec], parameter: Parameter, value: Any, report: Report
) -> Value | None:
    path = ("spec", "parameters", parameter.name)
    if isinstance(value, dict) and set(value) == {"secretRef"}:
        name = value["secretRef"]
        if isinstance(name, str) and SECRET_NAME.fullmatch(name):
            return SecretRef(name)
        report.add(
            codes.PARAMETER_TYPE,
            instance.file,
            instance.doc.span((*path, "secretRef")),
            f"secret parameter '{parameter.name}' names no valid secret",
            hint="a secret name is letters, digits and -_./, e.g. {secretRef: kb-api-key}",
        )
        return None
    # Never echo the value: it may be the secret itself.
    report.add(
        codes.SECRET_LITERAL,
        instance.file,
        instance.doc.span(path),
        f"secret parameter '{parameter.name}' must be a reference, not a value",
        hint="write {secretRef: NAME} and store the value under NAME in the runtime's secrets",
    )
    return None


def _type_problem(parameter: Parameter, value: Any) -> bool:
    kind = parameter.type
    if isinstance(value, bool):
        return kind != "boolean"
    if kind in ("string", "enum"):
        return not isinstance(value, str)
    if kind == "number":
        return not isinstance(value, int | float)
    if kind == "integer":
        return not isinstance(value, int)
    if kind == "boolean":
        return True  # not a bool (handled above)
    return False


def _value_problem(parameter: Parameter, value: Any) -> str | None:
    if parameter.type == "enum" and parameter.values is not None and value not in parameter.values:
        return f"is {json.dumps(value)}, not one of its values"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if parameter.minimum is not None and value < parameter.minimum:
            return f"is {value}, below its minimum {parameter.minimum:g}"
        if parameter.maximum is not None and value > parameter.maximum:
            return f"is {value}, above its maximum {parameter.maximum:g}"
    return None


def _values_hint(parameter: Parameter, value: Any = None) -> str | None:
    if parameter.type != "enum" or not parameter.values:
        return None
    return (
        did_you_mean(str(value), parameter.values)
        if value is not None
        else ("one of: " + ", ".join(f"'{v}'" for v in parameter.values))
    )


def parse_assignment(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from the command line; VALUE is read as YAML does (``0.8``, ``true``,
    ``{secretRef: kb-key}``). Raises ValueError for anything else."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise ValueError(f"{key}: {raw!r} is not a YAML value") from None
    if isinstance(value, str | int | float | bool) or (
        isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    ):
        return key, value
    raise ValueError(f"{key}: {raw!r} is not a string, number, boolean or secret reference")
