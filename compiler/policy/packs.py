"""Policy packs: the built-in Policies a Project selects with ``policyPacks``.       AF309

Input: the `Index` (its Project's ``policyPacks``). Output: the selected packs, each a `Policy`
resource read from the product's own ``policies/<name>/<version>/policy.yaml`` (installed as
``agentflow.policies``), plus diagnostics. A pack is selected by name (``baseline``: its newest
version) or by name and npm range (``baseline@^1``). Packs are the product's files, not the
user's: they are validated as strictly as a user's, and a pack that fails is a defect of this
compiler, reported as such rather than blamed on the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.load.schema import validate_resources
from agentflow.compiler.load.yaml import load_documents
from agentflow.compiler.model.policy import PolicySpec
from agentflow.compiler.model.resources import Policy
from agentflow.compiler.model.versions import admits, parse_range
from agentflow.compiler.source.snapshot import SourceFile

PACKS_PACKAGE = "agentflow.policies"
PACK_FILE = "policy.yaml"
PACK_ORIGIN = "<af>/policies"
"""How a pack's file is named in messages: not a path in the user's repository."""


@dataclass(frozen=True, slots=True)
class PolicyPack:
    name: str
    version: str
    policy: Resource[PolicySpec]
    """The pack's Policy; its name is ``NAME@VERSION`` so that it never collides with a
    Policy of the repository (resource names hold no ``@``)."""

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


def resolve_packs(index: Index, report: Report) -> tuple[PolicyPack, ...]:
    """The packs the Project selects, in the order it lists them (each once)."""
    project = index.project
    if project is None:
        return ()
    available = available_packs()
    selected: dict[str, PolicyPack] = {}
    for i, ref in enumerate(project.spec.policy_packs):
        name, _, range_text = ref.partition("@")
        versions = available.get(name)
        span = project.doc.span(("spec", "policyPacks", i))
        if versions is None:
            report.add(
                codes.UNKNOWN_POLICY_PACK,
                project.file,
                span,
                f"there is no policy pack '{name}'",
                hint=did_you_mean(name, available) or f"packs: {', '.join(sorted(available))}",
            )
            continue
        if range_text and parse_range(range_text) is None:
            report.add(
                codes.BAD_RANGE,
                project.file,
                span,
                f"{range_text!r} is not a valid version range",
                hint=f"write {name}@^1, {name}@1.x or {name}@1.0.0",
            )
            continue
        fitting = [v for v in versions if not range_text or admits(range_text, v)]
        if not fitting:
            report.add(
                codes.UNKNOWN_POLICY_PACK,
                project.file,
                span,
                f"no version of policy pack '{name}' satisfies {range_text!r}",
                hint=f"versions: {', '.join(versions)}",
            )
            continue
        if name not in selected:
            selected[name] = load_pack(name, fitting[-1])
    return tuple(selected.values())


@cache
def available_packs() -> dict[str, tuple[str, ...]]:
    """Pack name → its versions, oldest first."""
    import nodesemver

    packs: dict[str, tuple[str, ...]] = {}
    for folder in _packs_root().iterdir():
        if not folder.is_dir():
            continue
        versions = [v.name for v in folder.iterdir() if v.is_dir() and (v / PACK_FILE).is_file()]
        if versions:
            packs[folder.name] = tuple(nodesemver.sort(versions, loose=False))
    return packs


@cache
def load_pack(name: str, version: str) -> PolicyPack:
    path = f"{PACK_ORIGIN}/{name}/{version}/{PACK_FILE}"
    data = (_packs_root() / name / version / PACK_FILE).read_bytes()
    report = Report()
    resources_ = validate_resources(load_documents((SourceFile(path, data),), report), report)
    model = resources_[0].model if len(resources_) == 1 else None
    if report.has_errors() or not isinstance(model, Policy):
        problems = "; ".join(d.message for d in report.diagnostics()) or "not one Policy"
        raise RuntimeError(f"policy pack {name}@{version} is broken: {problems}")
    renamed = Resource("Policy", f"{name}@{version}", resources_[0].doc, model)
    return PolicyPack(name, version, renamed)


def _packs_root() -> Traversable:
    return resources.files(PACKS_PACKAGE)
