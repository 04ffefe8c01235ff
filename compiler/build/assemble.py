"""The bundle: a validated repository → the files of SPEC §3, as canonical bytes.   (pure)

Input: a `Validation` without errors, where its sources came from (`Provenance`) and the time to
stamp. Output: a frozen `Bundle`: every file's path and bytes and the manifest's digest. Nothing
here touches the disk; `write` writes what this returns.

```
bundle.json            manifest: formatVersion, project, version, digest, source, compiler,
                       environment, createdAt, files, workflows, profiles, tools, policyHash,
                       rules, templates
plans/<workflow>.json  each normalized plan (`plan_json`)
profiles/<id>.json     each ExecProfile a plan reaches (`profiles`)
tools/<name>.json      how to call each tool a plan reaches (`tools`): secret references only
```

Scenarios never enter a bundle: `write` puts them in a file of their own when asked.

Every file is RFC 8785 canonical JSON. ``digest`` is ``sha256:`` over the canonical manifest
without ``digest``; ``files`` holds the sha256 of every other file, so the one digest pins them
all. The same sources give the same bytes on any machine, any day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from agentflow.bundle.canonical import canonical_json, sha256_digest
from agentflow.bundle.manifest import FORMAT_VERSION, MANIFEST
from agentflow.bundle.plan_json import plan_to_json
from agentflow.compiler import __version__
from agentflow.compiler.pipeline import Validation
from agentflow.compiler.plan.keys import KeyInputs, plan_key_inputs
from agentflow.compiler.source.provenance import Provenance

COMPILER_NAME = "agentflow"


@dataclass(frozen=True, slots=True)
class Bundle:
    name: str
    """``<project>-<version>``: the bundle's folder name."""
    digest: str
    files: Mapping[str, bytes]
    """Every file by its path inside the bundle, ``bundle.json`` included."""
    keys: Mapping[str, KeyInputs]
    """Each plan's key inputs, by workflow name (for `--explain` and `af diff`)."""
    created_at: int


def assemble_bundle(validation: Validation, provenance: Provenance, created_at: int) -> Bundle:
    """The bundle of a repository that validated without errors."""
    index = validation.index
    assert index.project is not None and not validation.report.has_errors()
    project = index.project
    target = validation.target
    keys = plan_key_inputs(
        validation.plans,
        validation.pairs,
        validation.profiles,
        index,
        validation.templates,
        target.spec,
        tools=validation.tools,
    )
    files: dict[str, bytes] = {}
    workflows = []
    for name, plan in sorted(validation.plans.items()):
        path = f"plans/{name}.json"
        files[path] = canonical_json(plan_to_json(plan))
        cost = validation.costs.get(name)
        workflows.append(
            {
                "name": name,
                "planner": plan.planner,
                "planCacheKey": keys[name].key,
                "plan": path,
                "cost": cost.to_json() if cost is not None else None,
            }
        )
    profiles = []
    for id_, profile in sorted(validation.profiles.items()):
        path = f"profiles/{id_}.json"
        files[path] = canonical_json(profile.to_json())
        profiles.append({"id": id_, "hash": profile.hash, "path": path})
    tools = []
    for name, tool in sorted(validation.tools.items()):
        path = f"tools/{name}.json"
        files[path] = canonical_json(tool.to_json())
        tools.append({"name": name, "version": tool.version, "path": path})
    manifest: dict[str, Any] = {
        "formatVersion": FORMAT_VERSION,
        "project": project.name,
        "version": project.spec.version,
        "source": {
            "commit": provenance.commit,
            "tree": provenance.tree,
            "path": provenance.path,
            "dirty": provenance.dirty,
        },
        "compiler": {"name": COMPILER_NAME, "version": __version__},
        "environment": target.name,
        "toggles": dict(sorted(target.spec.toggles.items())) if target.spec is not None else {},
        "createdAt": rfc3339(created_at),
        "files": {path: sha256_digest(data) for path, data in sorted(files.items())},
        "workflows": workflows,
        "profiles": profiles,
        "tools": tools,
        "policyHash": policy_hash(validation),
        "rules": _rules(validation),
        "templates": _templates(validation),
    }
    digest = sha256_digest(canonical_json(manifest))
    files[MANIFEST] = canonical_json({**manifest, "digest": digest})
    return Bundle(
        name=f"{project.name}-{project.spec.version}",
        digest=digest,
        files=MappingProxyType(dict(sorted(files.items()))),
        keys=keys,
        created_at=created_at,
    )


def policy_hash(validation: Validation) -> str:
    """``sha256:`` over every policy in force (the repository's and its packs'), by meaning:
    their names and specs without descriptions; unset fields are left out, so that a field a
    newer compiler adds does not move the hash of policies that do not use it."""
    policies = {
        policy.name: policy.model.spec.model_dump(
            mode="json", by_alias=True, exclude={"description"}, exclude_none=True
        )
        for policy in validation.policies
    }
    return sha256_digest(canonical_json(dict(sorted(policies.items()))))


def _rules(validation: Validation) -> list[dict[str, Any]]:
    """Every policy rule in force, so that `af diff` can tell one removed or downgraded."""
    rules = [
        {
            "policy": policy.name,
            "name": rule.name,
            "severity": rule.severity,
            "expr": rule.expr,
            "match": rule.match.model_dump(mode="json", by_alias=True),
        }
        for policy in validation.policies
        for rule in policy.spec.rules
    ]
    return sorted(rules, key=lambda r: (r["policy"], r["name"]))


def rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _templates(validation: Validation) -> list[dict[str, Any]]:
    """Each template version in use, with the instances rendered from it."""
    used: dict[tuple[str, str], list[str]] = {}
    for use in validation.templates:
        used.setdefault((use.template, use.version), []).append(use.instance)
    return [
        {"name": name, "version": version, "instances": sorted(instances)}
        for (name, version), instances in sorted(used.items())
    ]
