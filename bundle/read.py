"""Reading bundles back: a folder, an archive or freshly assembled files → a `BundleView`.

Input: the files of a bundle (path → bytes), from `af build`'s folder, its ``.tar.gz``, or a
bundle the compiler assembled in memory. Output: a frozen `BundleView`: the manifest, each plan
as `plan.Plan` (via `plan_json.plan_from_json`), each typed ExecProfile and each tool
(`tool.tool_from_json`). Every reader checks
``formatVersion`` and the digests: a bundle of another format, or one edited after it was built,
is refused with `BundleReadError` rather than half understood.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from agentflow.bundle.archive import unpack_archive
from agentflow.bundle.manifest import BundleReadError, read_json, verified_manifest
from agentflow.bundle.plan import Plan
from agentflow.bundle.plan_json import PlanFormatError, plan_from_json
from agentflow.bundle.profile import ExecProfile, ProfileFormatError, profile_from_json
from agentflow.bundle.tool import ToolFormatError, ToolSpec, tool_from_json


@dataclass(frozen=True, slots=True)
class BundleView:
    label: str
    """How the user named it: a git revision or a path."""
    manifest: Mapping[str, Any]
    plans: Mapping[str, Plan]
    """By workflow name."""
    profiles: Mapping[str, ExecProfile]
    """Each ExecProfile, by id."""
    tools: Mapping[str, ToolSpec]
    """How to call each tool a plan reaches, by name (``tools/<name>.json``)."""

    @property
    def keys(self) -> Mapping[str, str]:
        return {w["name"]: w["planCacheKey"] for w in self.manifest["workflows"]}


def read_bundle(path: Path, label: str | None = None) -> BundleView:
    """A bundle folder (holding ``bundle.json``) or a ``.tar.gz`` written by `af build`."""
    shown = label or str(path)
    if path.is_dir():
        return view_of(folder_files(path), shown)
    if path.is_file():
        return view_of(unpack_archive(path), shown)
    raise BundleReadError(f"{shown}: no such bundle")


def folder_files(path: Path) -> dict[str, bytes]:
    """A bundle folder's files by their path inside it (hidden files aside)."""
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def view_of(files: Mapping[str, bytes], label: str) -> BundleView:
    """Check and read a bundle's files."""
    manifest = verified_manifest(files, label)
    try:
        plans = {
            w["name"]: plan_from_json(read_json(files[w["plan"]], label, w["plan"]))
            for w in manifest["workflows"]
        }
        profiles = {
            p["id"]: profile_from_json(read_json(files[p["path"]], label, p["path"]))
            for p in manifest["profiles"]
        }
        if "tools" not in manifest:
            raise BundleReadError(f"{label}: bundle.json lists no tools (written by an older af?)")
        tools = {t["name"]: _tool(files, label, t) for t in manifest["tools"]}
    except (KeyError, TypeError, PlanFormatError, ProfileFormatError, ToolFormatError) as error:
        raise BundleReadError(f"{label}: {error}") from None
    return BundleView(
        label=label,
        manifest=MappingProxyType(manifest),
        plans=MappingProxyType(plans),
        profiles=MappingProxyType(profiles),
        tools=MappingProxyType(tools),
    )


def _tool(files: Mapping[str, bytes], label: str, entry: Mapping[str, Any]) -> ToolSpec:
    """The tool an entry of the manifest's ``tools`` names, read and checked against it."""
    tool = tool_from_json(read_json(files[entry["path"]], label, entry["path"]))
    if (tool.name, tool.version) != (entry["name"], entry["version"]):
        raise ToolFormatError(f"{entry['path']} does not hold tool {entry['name']!r} (edited?)")
    return tool
