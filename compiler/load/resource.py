"""A validated resource: its kind, name, typed model and the document it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from agentflow.compiler.load.document import Document
from agentflow.compiler.model.base import Metadata

SpecT = TypeVar("SpecT", covariant=True)


class KindModel(Protocol[SpecT]):
    """What each kind's model (`model.resources`) offers: its metadata and its own spec type."""

    @property
    def metadata(self) -> Metadata: ...

    @property
    def spec(self) -> SpecT: ...


@dataclass(frozen=True, slots=True)
class Resource(Generic[SpecT]):
    """A validated resource and the document it came from.

    ``Resource[AgentSpec]`` is an Agent: `Index.get` and friends say which spec each kind has,
    so what later stages read from ``spec`` is checked. ``Resource[object]`` is a resource of
    any kind whose spec is not read (positions, names); ``Resource[Any]`` is what `load.schema`
    makes before anything knows the kind, and what `Index` keeps them as.
    """

    kind: str
    name: str
    doc: Document
    model: KindModel[SpecT]

    @property
    def file(self) -> str:
        return self.doc.file

    @property
    def spec(self) -> SpecT:
        return self.model.spec
