"""Cosmetic rewrites of a repository: what must change no plan and no plan-cache key."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml


class Reversed(yaml.SafeDumper):
    """Writes every mapping's keys in reverse order."""


Reversed.add_representer(
    dict,
    lambda dumper, data: dumper.represent_mapping(
        "tag:yaml.org,2002:map", list(reversed(list(data.items())))
    ),
)


def rewrite_cosmetically(
    source: Path, target: Path, dumper: type[yaml.SafeDumper], *, move: bool
) -> None:
    """``source`` with keys reordered, comments gone, descriptions and labels changed, and
    (``move``) every non-root resource moved to another folder."""
    if (source / "templates").is_dir():  # template assets are text, not YAML: copied as is
        shutil.copytree(source / "templates", target / "templates")
    for path in sorted(source.rglob("*.yaml")):
        relative = path.relative_to(source)
        if relative.parts[0] == "templates":
            continue
        data: dict[str, Any] = yaml.safe_load(path.read_text())
        data["metadata"]["labels"] = {"moved": "yes"}
        if data["kind"] != "TemplateInstance":
            data["spec"]["description"] = "said differently"
            for state in data["spec"].get("states", {}).values():
                state["description"] = "another word"
        name = relative.as_posix()
        if move and name != "af.yaml":
            name = f"elsewhere/{data['kind'].lower()}s/{relative.name}"
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(yaml.dump(data, Dumper=dumper, width=60))
