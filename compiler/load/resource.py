"""A validated resource: its kind, name, typed model and the document it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentflow.compiler.load.document import Document
from agentflow.compiler.model.resources import ResourceModel


@dataclass(frozen=True, slots=True)
class Resource:
    """A validated resource and the document it came from."""

    kind: str
    name: str
    doc: Document
    model: ResourceModel

    @property
    def file(self) -> str:
        return self.doc.file

    @property
    def spec(self) -> Any:
        return self.model.spec
