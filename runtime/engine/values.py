"""Run-time interpolation: ``{{ input.x }}``, ``{{ output.x }}``, ``{{ state.x }}`` in a step's
prompt and input (SPEC §1).

A string that is one interpolation and nothing else becomes the value itself, so a number stays
a number; a string with text around interpolations gets each value's text (strings as they are,
anything else as compact JSON). A path is dotted fields with ``[n]`` list indexes:
``{{ state.classify.intent }}``, ``{{ output.items[0].title }}``. A path that names nothing is an
`InterpolationError`, which fails the step: the compiler checks paths against the schemas, so
at run time it means the data did not match them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

Json = Any
"""A JSON value: dict, list, str, int, float, bool or None."""

_EXPRESSION = re.compile(
    r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*)\s*\}\}"
)
_ROOT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
VARIABLES = ("input", "output", "state")


class InterpolationError(ValueError):
    """An interpolation that names no value in this run."""


def interpolate(value: Json, scope: Mapping[str, Json]) -> Json:
    """``value`` with every string's interpolations replaced from ``scope``, recursively."""
    if isinstance(value, str):
        return _string(value, scope)
    if isinstance(value, list):
        return [interpolate(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, scope) for key, item in value.items()}
    return value


def render_text(text: str, scope: Mapping[str, Json]) -> str:
    """A prompt: every interpolation replaced by its value's text."""
    return _EXPRESSION.sub(lambda m: _text(lookup(m.group(1), scope)), text)


def lookup(path: str, scope: Mapping[str, Json]) -> Json:
    """The value ``input.items[0].title`` names in ``scope``."""
    root = _ROOT.match(path)
    if root is None or root.group(0) not in scope:
        raise InterpolationError(f"{{{{ {path} }}}}: there is no such variable here")
    value = scope[root.group(0)]
    for field, index in _STEP.findall(path[root.end() :]):
        if field:
            if not isinstance(value, dict) or field not in value:
                raise InterpolationError(f"{{{{ {path} }}}}: no field '{field}'")
            value = value[field]
        else:
            position = int(index)
            if not isinstance(value, list) or position >= len(value):
                raise InterpolationError(f"{{{{ {path} }}}}: no item [{position}]")
            value = value[position]
    return value


def _string(text: str, scope: Mapping[str, Json]) -> Json:
    whole = _EXPRESSION.fullmatch(text)
    if whole is not None:
        return lookup(whole.group(1), scope)
    return render_text(text, scope)


def _text(value: Json) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
