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
import json
import math
from typing import Any

import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1
"""Beyond this an IEEE 754 double, which is what a JSON number is, loses integers."""


class NotJsonError(ValueError):
    """A value has no canonical JSON form; the message says where (``$.a[0]``) and why."""


def canonical_json(value: object) -> bytes:
    """The RFC 8785 canonical bytes of ``value``; raises `NotJsonError` if it is not JSON."""
    plain = [True]
    checked = _json_value(value, (), plain)
    if plain[0]:
        # No number but integers and no key outside ASCII: RFC 8785 is then exactly Python's
        # JSON with sorted keys and no spaces (same string escapes; code-point order is
        # UTF-16 order for ASCII). Much faster, and a property test holds the two equal.
        return json.dumps(
            checked, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    return rfc8785.dumps(checked)


def sha256_digest(data: bytes) -> str:
    """``sha256:`` and the lowercase hex digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


Where = tuple[Any, ...]
"""Where a value is, as (parent, key or index) pairs: formatted only for an error message."""


def _json_value(value: object, where: Where, plain: list[bool]) -> Any:
    """``value`` checked and ready for the serializer (tuples as lists); ``plain[0]`` is set
    False when it holds a float or a key outside ASCII (the fast path's condition).

    A JSON number is an IEEE 754 double. An integer beyond ±(2**53 - 1) is kept only when it
    is exactly the canonical text of a double (``2**53``, ``49144779262539930``): it then
    becomes that double, with the same digits, so a reader that parses the text back into an
    integer canonicalizes it to the same bytes. Any other (``2**53 + 1``) is refused: JSON
    would silently change it.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if not value.isascii() and not _is_unicode_text(value):
            raise NotJsonError(
                f"{_shown(where)}: string holds a lone surrogate, which UTF-8 cannot encode"
            )
        return value
    if isinstance(value, int):
        if abs(value) <= MAX_SAFE_INTEGER:
            return value
        plain[0] = False
        return _large_integer(value, _shown(where))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJsonError(
                f"{_shown(where)}: {value} is not a JSON number (no NaN or infinity)"
            )
        plain[0] = False
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item, (where, i), plain) for i, item in enumerate(value)]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJsonError(
                    f"{_shown(where)}: object key {key!r} is a {type(key).__name__}, not a string"
                )
            if not key.isascii():
                if not _is_unicode_text(key):
                    raise NotJsonError(
                        f"{_shown(where)}: object key {key!r} holds a lone surrogate"
                    )
                plain[0] = False
            result[key] = _json_value(item, (where, key), plain)
        return result
    raise NotJsonError(f"{_shown(where)}: a {type(value).__name__} is not a JSON value")


def _shown(where: Where) -> str:
    """``$.a[0]``: the path of `Where` as the messages write it."""
    steps: list[Any] = []
    while where:
        where, step = where
        steps.append(step)
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in reversed(steps))


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
