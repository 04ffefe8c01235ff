"""The published schemas of a bundle's files, shipped with this package, and a check against them.

``schemas/{bundle,plan,profile,bundle-tool}.schema.json`` install as package data of
`agentflow.bundle` (the ``agentflow.bundle.schemas`` folder), so any reader of bundles, the
runtime included, can check a file's shape without the source tree. A tool file's schema is
``bundle-tool.schema.json``: ``tool.schema.json`` is the source format's Tool kind, which a
user's editor reads. `jsonschema` loads only when a check runs.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any, Literal

BundleFile = Literal["bundle", "plan", "profile", "tool"]
SCHEMA_FILES: dict[BundleFile, str] = {
    "bundle": "bundle.schema.json",
    "plan": "plan.schema.json",
    "profile": "profile.schema.json",
    "tool": "bundle-tool.schema.json",
}
"""Each kind of bundle file → its published schema, in ``schemas/``."""


@cache
def schema(kind: BundleFile) -> dict[str, Any]:
    """The JSON Schema (draft-07) of ``bundle.json``, a plan, a profile or a tool file."""
    text = (files("agentflow.bundle.schemas") / SCHEMA_FILES[kind]).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def schema_errors(kind: BundleFile, document: Any) -> list[str]:
    """What is wrong with ``document`` as a file of ``kind``, one line each; empty when valid."""
    import jsonschema

    validator = jsonschema.Draft7Validator(schema(kind))
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def kind_of(path: str) -> BundleFile | None:
    """Which schema a file of a bundle answers to, by its path inside the bundle."""
    if path == "bundle.json":
        return "bundle"
    if path.startswith("plans/"):
        return "plan"
    if path.startswith("profiles/"):
        return "profile"
    if path.startswith("tools/"):
        return "tool"
    return None
