"""Plan-cache keys: what a plan's meaning depends on, hashed.                     (SPEC §3)

Input: the `Validation` of a repository (plans, profiles, policies, templates) and the environment
built for. Output: one `KeyInputs` per plan; its ``key`` is ``sha256:`` over the RFC 8785 form of
its `inputs`, an explicit and reviewed list:

- ``planner``, ``plannerVersion``: the planner type and the version of its semantics;
- ``plan``: the normalized plan (`plan_json`), which formatting, comments, descriptions, labels
  and file locations never reach;
- ``profiles``: the hash of each ExecProfile the plan reaches, by id (a tool's timeout reaches
  only the plans whose steps use that tool);
- ``roles``: the definition of each role the plan's agents run under (``allowedTools`` and
  ``permissions``), by name: the part of the policies a plan uses that its profiles do not already
  hold. Rules are checks, not execution, and reach no key;
- ``tools``: the hash of each tool the plan reaches as ``tools/<name>.json`` holds it (how it is
  called: type, endpoint or MCP server or entrypoint, headers, schemas, version), by name: an
  endpoint moved re-plans exactly the plans whose steps may call it;
- ``template``: the template name and version that rendered the workflow, if one did;
- ``toggles``: the environment's toggles, only when one of the plan's conditions reads ``env``;
- ``fallback``: the key of an LLM plan's fallback plan (it runs when planning fails);
- ``compiler``: the compiler's compatibility line (``0.1`` while below 1.0, then the major).

Nothing else: no path, time, host or hash-seed-dependent order can reach a key, and no
Scenario (a test of the plan, not a part of it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from agentflow.bundle.canonical import canonical_json, sha256_digest
from agentflow.bundle.plan import PLANNER_VERSIONS, LlmPlan, Plan
from agentflow.bundle.plan_json import plan_to_json
from agentflow.bundle.profile import ExecProfile, profile_id
from agentflow.bundle.tool import ToolSpec
from agentflow.compiler import __version__
from agentflow.compiler.load.index import Index
from agentflow.compiler.model.project import Environment
from agentflow.compiler.templates.registry import TemplateUse

_READS_ENV = re.compile(r"(?<![\w.])env\b")


@dataclass(frozen=True, slots=True)
class KeyInputs:
    workflow: str
    inputs: Mapping[str, Any]
    """Everything the key covers, as JSON (see the module docstring)."""

    @property
    def key(self) -> str:
        return sha256_digest(canonical_json(dict(self.inputs)))


def compatibility_line(version: str = __version__) -> str:
    """``0.1`` for 0.1.x (below 1.0 a minor may break), else the major: ``2`` for 2.3.0."""
    major, minor, *_ = version.split(".")
    return f"{major}.{minor}" if major == "0" else major


def plan_key_inputs(
    plans: Mapping[str, Plan],
    pairs: Mapping[str, frozenset[tuple[str, str | None]]],
    profiles: Mapping[str, ExecProfile],
    index: Index,
    templates: tuple[TemplateUse, ...],
    environment: Environment | None,
    *,
    tools: Mapping[str, ToolSpec],
) -> Mapping[str, KeyInputs]:
    """The key inputs of every plan, by workflow name."""
    rendered_by = {
        name: use for use in templates for kind, name in use.resources if kind == "Workflow"
    }
    keys: dict[str, KeyInputs] = {}

    def inputs_of(name: str) -> KeyInputs:
        if name in keys:
            return keys[name]
        plan = plans[name]
        document = plan_to_json(plan)
        inputs: dict[str, Any] = {
            "planner": plan.planner,
            "plannerVersion": PLANNER_VERSIONS[plan.planner],
            "plan": document,
            "profiles": _profile_hashes(pairs[name], profiles),
            "roles": _roles(pairs[name], index),
            "tools": _tool_hashes(pairs[name], tools),
            "template": _template(rendered_by.get(name)),
            "toggles": _toggles(document, environment),
            "fallback": None,
            "compiler": compatibility_line(),
        }
        if isinstance(plan, LlmPlan) and plan.fallback is not None and plan.fallback in plans:
            inputs["fallback"] = inputs_of(plan.fallback).key  # fallbacks are FSMs: no cycle
        keys[name] = KeyInputs(name, MappingProxyType(inputs))
        return keys[name]

    for name in sorted(plans):
        inputs_of(name)
    return MappingProxyType(dict(sorted(keys.items())))


def _profile_hashes(
    pairs: frozenset[tuple[str, str | None]], profiles: Mapping[str, ExecProfile]
) -> dict[str, str]:
    ids = (profile_id(agent, tool) for agent, tool in pairs)
    return {id_: profiles[id_].hash for id_ in sorted(ids) if id_ in profiles}


def _tool_hashes(
    pairs: frozenset[tuple[str, str | None]], tools: Mapping[str, ToolSpec]
) -> dict[str, str]:
    names = sorted({tool for _, tool in pairs if tool is not None and tool in tools})
    return {name: tool_hash(tools[name]) for name in names}


def tool_hash(tool: ToolSpec) -> str:
    """``sha256:`` over the canonical ``tools/<name>.json`` of a tool."""
    return sha256_digest(canonical_json(tool.to_json()))


def _roles(pairs: frozenset[tuple[str, str | None]], index: Index) -> dict[str, Any]:
    roles: dict[str, Any] = {}
    for agent_name in sorted({agent for agent, _ in pairs}):
        agent = index.get("Agent", agent_name)
        role_name = agent.spec.role if agent is not None else None
        ref = index.roles.get(role_name) if role_name is not None else None
        if ref is not None:
            role = ref.policy.spec.roles[ref.name]
            roles[ref.name] = role.model_dump(mode="json", by_alias=True, exclude_none=True)
    return roles


def _template(use: TemplateUse | None) -> dict[str, str] | None:
    return None if use is None else {"name": use.template, "version": use.version}


def _toggles(document: Mapping[str, Any], environment: Environment | None) -> dict[str, Any]:
    if environment is None or not any(_READS_ENV.search(s) for s in _condition_sources(document)):
        return {}
    return dict(sorted(environment.toggles.items()))


def _condition_sources(value: Any) -> Iterator[str]:
    """The source of every compiled condition in a plan document."""
    if isinstance(value, dict):
        if isinstance(value.get("source"), str) and "checked" in value:
            yield value["source"]
        for item in value.values():
            yield from _condition_sources(item)
    elif isinstance(value, list):
        for item in value:
            yield from _condition_sources(item)
