"""Canonical JSON against RFC 8785's own examples, and refusal of what is not JSON."""

from __future__ import annotations

import hashlib
import json
import math
import struct
from types import MappingProxyType
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from agentflow.bundle.canonical import NotJsonError, canonical_json, sha256_digest

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), NUMBERS)
def test_numbers_serialize_as_rfc8785_appendix_b(bits: str, expected: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical_json(number) == expected.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinities_are_refused(bits: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    with pytest.raises(NotJsonError, match=r"^\$\.a\[1\]: .* not a JSON number"):
        canonical_json({"a": [1, number]})


def test_rfc8785_section_3_2_2_example() -> None:
    # The input text of RFC 8785 §3.2.2, parsed by Python's json, then canonicalized.
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(text)) == expected.encode("utf-8")


def test_keys_sort_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3: the emoji (surrogates D83D DE00) sorts before U+FB33, unlike code points.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = list(json.loads(canonical_json(value)))
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert sorted(value) != order  # code-point order would differ: the test can fail


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "a"}, r"^\$: object key 1 is a int, not a string"),
        ({"a": {("t",): 1}}, r"^\$\.a: object key \('t',\) is a tuple"),
        ({"a": b"x"}, r"^\$\.a: a bytes is not a JSON value"),
        ([{1, 2}], r"^\$\[0\]: a set is not a JSON value"),
        ({"a": MappingProxyType({})}, r"^\$\.a: a mappingproxy is not a JSON value"),
        ({"n": 2**53 + 1}, r"^\$\.n: integer 9007199254740993 would change"),
        ({"n": 2**60}, r"^\$\.n: integer 1152921504606846976 would change"),
        ({"n": 10**400}, r"^\$\.n: integer 1000000000"),
        ({"s": "\ud800"}, r"^\$\.s: string holds a lone surrogate"),
    ],
)
def test_non_json_values_are_refused_with_their_place(value: Any, message: str) -> None:
    with pytest.raises(NotJsonError, match=message):
        canonical_json(value)


def test_large_integers_that_are_a_doubles_text_are_kept() -> None:
    data = canonical_json([2**53, -49144779262539930, 10**20])
    assert data == b"[9007199254740992,-49144779262539930,100000000000000000000]"
    assert canonical_json((1, (2,))) == b"[1,[2]]"


def test_sha256_digest() -> None:
    assert sha256_digest(b"") == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert sha256_digest(b"abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON)
def test_canonical_json_round_trips_and_is_a_fixed_point(value: Any) -> None:
    data = canonical_json(value)
    parsed = json.loads(data)
    assert canonical_json(parsed) == data
    assert _same(parsed, value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=0) or a == b
    return bool(a == b)


_SAFE_INTEGERS = st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


def _values(
    keys: st.SearchStrategy[str], scalars: st.SearchStrategy[object]
) -> st.SearchStrategy[object]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=20,
    )


@settings(max_examples=300, deadline=None)
@given(
    _values(
        st.text(st.characters(max_codepoint=127), max_size=6),
        st.none() | st.booleans() | _SAFE_INTEGERS | _TEXT,
    )
)
def test_the_fast_path_writes_exactly_rfc8785(value: object) -> None:
    """No floats and ASCII keys: the json-module path; its bytes must be RFC 8785's."""
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(
    _values(
        _TEXT,
        st.none()
        | st.booleans()
        | _SAFE_INTEGERS
        | _TEXT
        | st.floats(allow_nan=False, allow_infinity=False),
    )
)
def test_any_json_value_writes_exactly_rfc8785(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)
