"""Scalars: a YAML scalar's text and tag → its plain value, by the YAML 1.2 core schema.

Input: one scalar event's text, tag and style, from `compose`. Output: ``None``, a bool, an int,
a float or the text itself. An unquoted ``off`` stays the string "off" (`is_yaml11_boolean` lets
the composer mark it, so a later stage warns that YAML 1.1 tools read it as false). No codes of
its own: the composer reports tags outside `CORE_TAGS`.
"""

from __future__ import annotations

import re

from agentflow.compiler.load.document import JSON

# YAML 1.2 core schema, https://yaml.org/spec/1.2.2/#1032-tag-resolution
_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_YAML11_BOOL = re.compile(r"y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF")
CORE_TAGS = frozenset(
    {
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
        "!",
    }
)
"""The tags a resource may carry; any other tag is reported."""


def resolve_plain(text: str) -> JSON:
    """An unquoted, untagged scalar's value."""
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    try:
        if _INT.fullmatch(text):
            return int(text)
        if _OCT.fullmatch(text):
            return int(text[2:], 8)
        if _HEX.fullmatch(text):
            return int(text[2:], 16)
    except ValueError:  # more digits than Python converts: keep the text
        return text
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def resolve_tagged(tag: str, text: str, default: JSON) -> JSON:
    """A scalar with an explicit tag: ``!!str`` keeps the text, ``!!int`` and ``!!float``
    take a number when the text is one; anything else keeps ``default``."""
    if tag == "tag:yaml.org,2002:str":
        return text
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        resolved = resolve_plain(text)
        return resolved if isinstance(resolved, int | float) else default
    return default


def is_yaml11_boolean(text: str) -> bool:
    """Plain ``yes``/``no``/``on``/``off``: a string here, a boolean to YAML 1.1 tools."""
    return _YAML11_BOOL.fullmatch(text) is not None


def yaml_text(value: JSON) -> str:
    """A scalar as YAML writes it: ``null``, ``true``, ``1.5``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)
