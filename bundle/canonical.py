"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and sha256 digests.

Input: a JSON value built from dicts, lists, tuples, strings, numbers, booleans and None.
Output: its one canonical byte string (keys sorted by UTF-16 code units, ECMAScript number
forms, UTF-8, no whitespace), and ``sha256:<hex>`` digests over bytes. Everything hashed into a
bundle, a digest or a plan-cache key goes through here, never through ``json.dumps`` or
``hash()`` (SPEC §3; STYLE §4).

A value with no JSON form (NaN, an infinity, an integer no double holds exactly, a non-string key,
a lone surrogate, a set or bytes) is refused with `NotJsonError`, naming where it is.
The value is walked recursively; the loader bounds the nesting of anything a user wrote.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1
"""Beyond this an IEEE 754 double, which is what a JSON number is, loses integers."""


class NotJsonError(ValueError):
    """A value has no canonical JSON form; the message says where (``$.a[0]``) and why."""


def canonical_json(value: object) -> bytes:
    """The RFC 8785 canonical bytes of ``value``; raises `NotJsonError` if it is not JSON."""
    return rfc8785.dumps(_json_value(value, "$"))


def sha256_digest(data: bytes) -> str:
    """``sha256:`` and the lowercase hex digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json_value(value: object, where: str) -> Any:
    """``value`` checked and ready for the serializer (tuples as lists).

    A JSON number is an IEEE 754 double. An integer beyond ±(2**53 - 1) is kept only when it
    is exactly the canonical text of a double (``2**53``, ``49144779262539930``): it then
    becomes that double, with the same digits, so a reader that parses the text back into an
    integer canonicalizes it to the same bytes. Any other (``2**53 + 1``) is refused: JSON
    would silently change it.
    """
    if value is None or isinstance(value, bool | str):
        if isinstance(value, str) and not _is_unicode_text(value):
            raise NotJsonError(f"{where}: string holds a lone surrogate, which UTF-8 cannot encode")
        return value
    if isinstance(value, int):
        return value if abs(value) <= MAX_SAFE_INTEGER else _large_integer(value, where)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJsonError(f"{where}: {value} is not a JSON number (no NaN or infinity)")
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJsonError(
                    f"{where}: object key {key!r} is a {type(key).__name__}, not a string"
                )
            if not _is_unicode_text(key):
                raise NotJsonError(f"{where}: object key {key!r} holds a lone surrogate")
            result[key] = _json_value(item, f"{where}.{key}")
        return result
    raise NotJsonError(f"{where}: a {type(value).__name__} is not a JSON value")


def _large_integer(value: int, where: str) -> float:
    try:
        as_double = float(value)
    except OverflowError:
        as_double = math.inf
    if math.isfinite(as_double) and rfc8785.dumps(as_double) == str(value).encode():
        return as_double
    raise NotJsonError(
        f"{where}: integer {value} would change in JSON, whose numbers are doubles "
        "(write it as a string)"
    )


def _is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
