"""Secrets as a bundle names them: by reference, never by value.

Wherever a secret belongs (a tool header, a model provider's API key), the source holds
``{secretRef: NAME}`` and so does the bundle; the runtime resolves the name when it makes the
call (SPEC §1). A resolved value never reaches a bundle.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

SECRET_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?")
"""A secret's name in the runtime's secret store: ``kb-api-key``, ``support/kb.token``."""


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A secret by name; the runtime resolves the value when it makes the call."""

    name: str

    def to_json(self) -> dict[str, str]:
        return {"secretRef": self.name}

    def __str__(self) -> str:
        """``{"secretRef": "kb-api-key"}``: a template renders a secret parameter as this JSON
        object, which is also a YAML flow mapping, so the rendered resource holds a reference."""
        return json.dumps(self.to_json())


Text = str | SecretRef
"""A value that is either written out or a secret's name (a header, an API key)."""


def text_to_json(value: Text) -> Any:
    return value.to_json() if isinstance(value, SecretRef) else value


def text_from_json(data: Any) -> Text:
    """A string, or ``{"secretRef": NAME}``; raises ValueError for anything else."""
    if isinstance(data, str):
        return data
    if isinstance(data, dict) and set(data) == {"secretRef"}:
        name = data["secretRef"]
        if isinstance(name, str) and SECRET_NAME.fullmatch(name):
            return SecretRef(name)
    raise ValueError(f"expected a string or {{secretRef: NAME}}, found {data!r}")
