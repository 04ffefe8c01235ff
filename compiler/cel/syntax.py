"""A checked CEL expression's syntax tree, read from the engine's serialized form.   (AF5xx)

Input: the bytes of a ``google.protobuf.Any`` holding a ``cel.expr.CheckedExpr`` (what
cel-expr-python's ``Expression.serialize()`` returns). Output: a frozen tree of `Expr` nodes with
the source offset of each, macros expanded (``all``, ``exists``, ``map``… are comprehensions);
and `canonical_checked`, the same bytes with map entries in key order, for reproducible bundles.
Only what the later checks read is decoded; the wire format is protobuf's, field numbers from
``cel/expr/syntax.proto`` and ``checked.proto``, which are stable public API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

ExprKind = Literal["const", "ident", "select", "call", "list", "struct", "comprehension", "none"]
_KINDS: Mapping[int, ExprKind] = MappingProxyType(
    {3: "const", 4: "ident", 5: "select", 6: "call", 7: "list", 8: "struct", 9: "comprehension"}
)


@dataclass(frozen=True, slots=True)
class Expr:
    id: int
    kind: ExprKind
    name: str = ""
    """The identifier, selected field, called function or comprehension variable."""
    operand: Expr | None = None
    """The selected-from value, the call's receiver, or the comprehension's range."""
    args: tuple[Expr, ...] = ()
    """Call arguments, list elements, struct values; for a comprehension: accumulator init,
    loop condition, loop step and result."""
    accumulator: str = ""
    test_only: bool = False
    """A ``has()`` test rather than a field read."""

    def walk(self) -> Iterator[Expr]:
        yield self
        if self.operand is not None:
            yield from self.operand.walk()
        for arg in self.args:
            yield from arg.walk()


@dataclass(frozen=True, slots=True)
class CheckedAst:
    root: Expr
    positions: Mapping[int, int] = field(default_factory=dict)
    """Expression id → code-point offset in the source."""


def decode_checked(data: bytes) -> CheckedAst:
    """Decode an ``Any``-wrapped ``CheckedExpr`` (or a bare one)."""
    top = _fields(data)
    if top.get(1) and top[1][0] == b"type.googleapis.com/cel.expr.CheckedExpr":
        top = _fields(_bytes(top[2][0])) if 2 in top else {}
    root = _expr(_bytes(top[4][0])) if 4 in top else Expr(0, "none")
    positions: dict[int, int] = {}
    for source_info in top.get(5, ()):
        for entry in _fields(_bytes(source_info)).get(4, ()):
            pair = _fields(_bytes(entry))
            key, value = pair.get(1, [0])[0], pair.get(2, [0])[0]
            positions[_int(key)] = _int(value)
    return CheckedAst(root, MappingProxyType(positions))


_Value = int | bytes
_Field = tuple[int, int, _Value]
"""A field as written: its number, wire type and value (varints as ints, the rest as bytes)."""
_CHECKED_MAPS = frozenset({2, 3})
"""``CheckedExpr.reference_map`` and ``type_map``."""
_SOURCE_INFO, _SOURCE_INFO_MAPS = 5, frozenset({4, 5})
"""``CheckedExpr.source_info``, whose ``positions`` and ``macro_calls`` are maps too."""


def canonical_checked(data: bytes) -> bytes:
    """The same ``Any``-wrapped ``CheckedExpr`` with every map's entries in key order.

    The engine writes maps in hash-table order, which changes from run to run; bundles must be
    byte-identical (SPEC §3), so the compiled form is written again, canonically.
    """
    fields = [
        (number, wire, _sort_maps(value, _CHECKED_MAPS) if number == 2 and wire == 2 else value)
        for number, wire, value in _raw_fields(data)
    ]
    return _encode(fields)


def _sort_maps(data: _Value, maps: frozenset[int]) -> bytes:
    fields = []
    for number, wire, value in _raw_fields(_bytes(data)):
        if number == _SOURCE_INFO and maps is _CHECKED_MAPS and wire == 2:
            value = _sort_maps(value, _SOURCE_INFO_MAPS)
        fields.append((number, wire, value))

    def order(field: _Field) -> tuple[int, int]:
        number, _, value = field
        key = _int(_fields(_bytes(value)).get(1, [0])[0]) if number in maps else 0
        return number, key

    return _encode(sorted(fields, key=order))


def _encode(fields: list[_Field]) -> bytes:
    out = bytearray()
    for number, wire, value in fields:
        out += _encode_varint(number << 3 | wire)
        if isinstance(value, int):
            out += _encode_varint(value)
        elif wire == 2:
            out += _encode_varint(len(value)) + value
        else:
            out += value
    return bytes(out)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _fields(data: bytes) -> dict[int, list[_Value]]:
    """Field number → values."""
    found: dict[int, list[_Value]] = {}
    for number, _, value in _raw_fields(data):
        found.setdefault(number, []).append(value)
    return found


def _raw_fields(data: bytes) -> list[_Field]:
    """Protobuf's wire format, one level deep."""
    found: list[_Field] = []
    i = 0
    while i < len(data):
        tag, i = _varint(data, i)
        number, wire = tag >> 3, tag & 7
        value: _Value
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        found.append((number, wire, value))
    return found


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def _int(value: _Value) -> int:
    return value if isinstance(value, int) else 0


def _text(fields: dict[int, list[_Value]], number: int) -> str:
    value = fields.get(number, [b""])[0]
    return value.decode("utf-8") if isinstance(value, bytes) else ""


def _bytes(value: _Value) -> bytes:
    return value if isinstance(value, bytes) else b""


def _expr(data: bytes) -> Expr:
    fields = _fields(data)
    expr_id = _int(fields.get(2, [0])[0])
    for number, kind in _KINDS.items():
        if number in fields:
            return _node(expr_id, kind, _fields(_bytes(fields[number][0])))
    return Expr(expr_id, "none")


def _child(fields: dict[int, list[_Value]], number: int) -> Expr | None:
    return _expr(_bytes(fields[number][0])) if number in fields else None


def _node(expr_id: int, kind: ExprKind, f: dict[int, list[_Value]]) -> Expr:
    if kind == "ident":
        return Expr(expr_id, kind, _text(f, 1))
    if kind == "select":
        return Expr(expr_id, kind, _text(f, 2), _child(f, 1), test_only=bool(f.get(3, [0])[0]))
    if kind == "call":
        args = tuple(_expr(_bytes(v)) for v in f.get(3, ()))
        return Expr(expr_id, kind, _text(f, 2), _child(f, 1), args)
    if kind == "list":
        return Expr(expr_id, kind, args=tuple(_expr(_bytes(v)) for v in f.get(1, ())))
    if kind == "struct":
        values = [_child(_fields(_bytes(entry)), 4) for entry in f.get(2, ())]
        return Expr(expr_id, kind, _text(f, 1), args=tuple(v for v in values if v is not None))
    if kind == "comprehension":
        parts = (_child(f, number) for number in (4, 5, 6, 7))
        return Expr(
            expr_id,
            kind,
            _text(f, 1),
            _child(f, 2),
            tuple(p if p is not None else Expr(0, "none") for p in parts),
            accumulator=_text(f, 3),
        )
    return Expr(expr_id, kind)
