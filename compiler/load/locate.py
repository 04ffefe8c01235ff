"""Pydantic's error locations → paths in the document, through the model types.

A pydantic ``loc`` is not a document path: a tagged union puts its tag in it (``spec``,
``http``, ``endpoint``) although the tag is no key of the data. Following the model types and
the data together tells the two apart, and yields the fields the mapping at that place accepts,
for did-you-mean hints. Used by `schema` to place every AF2xx diagnostic on its key or value.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Tag

from agentflow.compiler.diagnostics.positions import YamlPath


@dataclass(frozen=True, slots=True)
class Located:
    path: YamlPath
    value: Any
    parent_fields: tuple[str, ...]
    """The fields the mapping holding the last key accepts (for did-you-mean)."""


def locate(model_type: type[BaseModel], data: Any, loc: tuple[str | int, ...]) -> Located:
    """Follow a pydantic ``loc`` through the model types and the data together.

    Tagged unions put the tag in ``loc`` although it is not a key in the data; following the
    types tells the two apart, and yields the fields a mapping accepts.
    """
    annotation: Any = model_type
    value = data
    path: list[str | int] = []
    fields: tuple[str, ...] = ()
    for step in loc:
        annotation = _unwrap(annotation)
        members = _union_members(annotation)
        if members is not None:
            chosen = _choose_member(members, step)
            if chosen is not None:
                annotation = chosen
                continue
            annotation = _first_model(members)
            annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = tuple(_aliases(annotation))
            annotation = _field_annotation(annotation, str(step))
        elif typing.get_origin(annotation) in (tuple, list):
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            annotation = Any
        path.append(step)
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            value = None
    return Located(tuple(path), value, fields)


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _union_members(annotation: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return None


def _choose_member(members: tuple[Any, ...], step: str | int) -> Any | None:
    for member in members:
        if step in set(_tags(member)):
            return _unwrap(member)
    return None


def _tags(member: Any) -> Iterator[str]:
    if typing.get_origin(member) is typing.Annotated:
        for meta in typing.get_args(member)[1:]:
            if isinstance(meta, Tag):
                yield meta.tag
        member = _unwrap(member)
    if isinstance(member, type) and issubclass(member, BaseModel):
        for name in ("type", "planner", "kind"):
            field = member.model_fields.get(name)
            if field is not None and typing.get_origin(field.annotation) is Literal:
                yield from (str(v) for v in typing.get_args(field.annotation))


def _first_model(members: tuple[Any, ...]) -> Any:
    for member in members:
        if member is not type(None):
            return member
    return Any


def _aliases(model: type[BaseModel]) -> Iterator[str]:
    for name, field in model.model_fields.items():
        yield field.alias or name


def _field_annotation(model: type[BaseModel], alias: str) -> Any:
    for name, field in model.model_fields.items():
        if (field.alias or name) == alias:
            return field.annotation
    return Any
