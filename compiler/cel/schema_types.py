"""JSON Schema → CEL types: the messages the CEL type checker sees.          (part of AF5xx)

Input: the JSON Schemas users wrote (a tool's ``outputSchema``, a step's ``output.schema``, a
workflow's ``input.schema``). Output: a CEL type signature per variable, plus a protobuf
descriptor pool holding one message per closed object schema. cel-expr-python checks field
access only against declared message types, so each object schema whose properties are known
becomes a message whose fields are its properties:

    string → string        integer → int          number → double       boolean → bool
    [T, "null"] → a nullable T (a wrapper type)    array → list(items)   closed object → message
    open object (no properties, additionalProperties, patternProperties) → map(string, dyn)
    anything else ($ref, anyOf/oneOf/allOf, several types, no type) → dyn

An object is closed when it lists properties and does not allow others (or lists none and says
``additionalProperties: false``: an object with no fields); a property name that is
not a CEL identifier (``first-name``) opens the object, since CEL can only reach it as
``output['first-name']``, which messages do not allow. Messages exist for type checking only:
evaluation sees plain JSON. See docs/conditions.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, struct_pb2, wrappers_pb2

from agentflow.compiler.load.user_schemas import json_type_of

PACKAGE = "agentflow.schema"
DYN = "dyn"
OPEN_OBJECT = "map<string, dyn>"
MAX_DEPTH = 32
"""Deeper schemas are typed dyn below this depth: the checker gains nothing from more."""
MAX_PROPERTIES = 1000

_Field = descriptor_pb2.FieldDescriptorProto
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CEL_RESERVED = frozenset(
    "as break const continue else false for function if import in let loop package namespace "
    "null return true var void while".split()
)
_SCALARS: Mapping[str, tuple[str, int, str]] = {
    # JSON type: (CEL type, protobuf field type, nullable wrapper message)
    "string": ("string", _Field.TYPE_STRING, "google.protobuf.StringValue"),
    "integer": ("int", _Field.TYPE_INT64, "google.protobuf.Int64Value"),
    "number": ("double", _Field.TYPE_DOUBLE, "google.protobuf.DoubleValue"),
    "boolean": ("bool", _Field.TYPE_BOOL, "google.protobuf.BoolValue"),
}
_COMPOSITION = ("$ref", "$dynamicRef", "anyOf", "oneOf", "allOf", "not", "if")


@dataclass(frozen=True, slots=True)
class MessageInfo:
    """What a generated message stands for, for diagnostics."""

    display: str
    """Where the object sits, as CEL writes it: ``output``, ``output.details``."""
    fields: tuple[str, ...]


def json_type(schema: Any) -> tuple[str | None, bool]:
    """The one JSON type a schema allows (``None`` when it is not one) and whether null is."""
    if not isinstance(schema, dict) or any(key in schema for key in _COMPOSITION):
        return None, False
    declared = schema.get("type")
    if declared is None:
        return _inferred_type(schema)
    names = declared if isinstance(declared, list) else [declared]
    nullable = "null" in names
    kinds = {name for name in names if name != "null"}
    if kinds == {"integer", "number"}:
        return "number", nullable
    if len(kinds) != 1:
        return None, nullable
    kind = next(iter(kinds))
    return (kind if isinstance(kind, str) else None), nullable


def _inferred_type(schema: dict[str, Any]) -> tuple[str | None, bool]:
    if "properties" in schema:
        return "object", False
    if "items" in schema:
        return "array", False
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if not isinstance(values, list) or not values:
        return None, False
    nullable = None in values
    kinds = {json_type_of(v) for v in values if v is not None}
    if kinds == {"integer", "number"}:
        return "number", nullable
    return (kinds.pop() if len(kinds) == 1 else None), nullable


def closed_properties(schema: Any) -> dict[str, Any] | None:
    """The properties of an object schema that allows no others, else ``None`` (open)."""
    if json_type(schema)[0] != "object":
        return None
    properties = schema.get("properties")
    if not isinstance(properties, dict) or len(properties) > MAX_PROPERTIES:
        return None
    if not properties and schema.get("additionalProperties") is not False:
        return None  # no properties: open, unless it says outright that it allows none
    if schema.get("additionalProperties", False) is not False or "patternProperties" in schema:
        return None
    if any(not _IDENTIFIER.fullmatch(name) or name in CEL_RESERVED for name in properties):
        return None
    if len({_default_json_name(name) for name in properties}) < len(properties):
        return None  # protobuf rejects fields whose camelCase names collide (a_b and aB)
    return properties


def _default_json_name(name: str) -> str:
    """protobuf's default JSON name of a field: ``foo_bar`` → ``fooBar``."""
    parts = name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])


class SchemaTypes:
    """Message types for the schemas of one compilation, deduplicated by content."""

    def __init__(self) -> None:
        self._files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
        self._roots: dict[str, str] = {}
        self.messages: dict[str, MessageInfo] = {}

    def declare(self, variable: str, schema: Any) -> str:
        """The CEL type signature of ``variable`` typed by ``schema`` (``None``: dyn).

        Generated names hash what the checker sees (field names and types), not the schema's
        text, so a cosmetic edit (a description, key order) leaves every compiled form as it was.
        """
        if schema is None:
            return DYN
        probe = _FileBuilder(f"{PACKAGE}.probe", {})
        shape = [variable, probe.signature(schema, variable, 0), probe.file.SerializeToString()]
        key = hashlib.sha256(repr(shape).encode()).hexdigest()[:16]
        if key not in self._roots:
            builder = _FileBuilder(f"{PACKAGE}.t{key}", self.messages)
            self._roots[key] = builder.signature(schema, variable, 0)
            if builder.file.message_type:
                self._files[key] = builder.file
        return self._roots[key]

    @property
    def generation(self) -> int:
        """Changes whenever a new message is declared."""
        return len(self._files)

    def pool(self) -> descriptor_pool.DescriptorPool:
        """Every message declared so far, with the well-known types they use."""
        pool = descriptor_pool.DescriptorPool()
        pool.AddSerializedFile(struct_pb2.DESCRIPTOR.serialized_pb)
        pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
        for file in self._files.values():
            pool.AddSerializedFile(file.SerializeToString())
        return pool


class _FileBuilder:
    def __init__(self, package: str, messages: dict[str, MessageInfo]) -> None:
        self.package = package
        self.messages = messages
        self.file = descriptor_pb2.FileDescriptorProto(
            name=package.replace(".", "/") + ".proto", package=package, syntax="proto3"
        )
        self.file.dependency.extend(
            ["google/protobuf/struct.proto", "google/protobuf/wrappers.proto"]
        )

    def signature(self, schema: Any, display: str, depth: int) -> str:
        """A CEL type signature, for a variable or a list's elements."""
        kind, nullable = json_type(schema)
        if depth > MAX_DEPTH or kind is None:
            return DYN
        if kind in _SCALARS:
            cel_type, _, wrapper = _SCALARS[kind]
            return wrapper if nullable else cel_type
        if kind == "object":
            properties = closed_properties(schema)
            return OPEN_OBJECT if properties is None else self._message(properties, display, depth)
        if kind == "array" and not nullable:
            items = schema.get("items")
            return f"list<{self.signature(items, display + '[]', depth + 1)}>"
        return DYN

    def _message(self, properties: dict[str, Any], display: str, depth: int) -> str:
        message = self.file.message_type.add(name=f"M{len(self.file.message_type)}")
        full_name = f"{self.package}.{message.name}"
        self.messages[full_name] = MessageInfo(display, tuple(sorted(properties)))
        for number, (name, schema) in enumerate(sorted(properties.items()), start=1):
            field = message.field.add(name=name, json_name=name, number=number)
            self._field_type(field, schema, f"{display}.{name}", depth + 1)
        return full_name

    def _field_type(self, field: Any, schema: Any, display: str, depth: int) -> None:
        field.label = _Field.LABEL_OPTIONAL
        kind, nullable = json_type(schema)
        if kind == "array" and not nullable and depth <= MAX_DEPTH:
            field.label = _Field.LABEL_REPEATED
            schema, display = schema.get("items"), display + "[]"
            kind, nullable = json_type(schema)
            if kind == "array":  # a list of lists: proto fields cannot nest repetition
                self._message_field(field, "google.protobuf.ListValue")
                return
        if depth > MAX_DEPTH or kind is None or kind == "null":
            self._message_field(field, "google.protobuf.Value")
        elif kind in _SCALARS:
            _, field_type, wrapper = _SCALARS[kind]
            if nullable:
                self._message_field(field, wrapper)
            else:
                field.type = field_type
        elif kind == "object":
            properties = closed_properties(schema)
            if properties is None:
                self._message_field(field, "google.protobuf.Struct")
            else:
                self._message_field(field, self._message(properties, display, depth))
        else:  # a nullable list
            self._message_field(field, "google.protobuf.Value")

    @staticmethod
    def _message_field(field: Any, type_name: str) -> None:
        field.type = _Field.TYPE_MESSAGE
        field.type_name = "." + type_name
