"""The environment a compilation is for: ``--env`` resolved once against the Project.   AF311

Input: the `Index` and the name ``--env`` gave (or none). Output: a `TargetEnvironment` that
every later stage reads (conditions type ``env`` by its toggles, rules see it, profiles take its
sandbox and residency, the bundle records it), plus AF311 when the Project does not define it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load.index import Index
from agentflow.compiler.model.project import Environment


@dataclass(frozen=True, slots=True)
class TargetEnvironment:
    """``--env`` as the stages need it: its name and, when the Project defines it, its spec."""

    requested: str | None
    """The name ``--env`` gave, defined or not; None without ``--env``."""
    spec: Environment | None
    """Its definition; None without ``--env`` or when the Project does not define it."""

    @property
    def name(self) -> str | None:
        """The environment compiled for: ``--env``'s name when the Project defines it."""
        return self.requested if self.spec is not None else None


NO_ENVIRONMENT = TargetEnvironment(None, None)
"""No ``--env``: an anonymous environment whose residency is ``"off"``."""


def resolve_environment(index: Index, requested: str | None, report: Report) -> TargetEnvironment:
    """The environment ``--env`` names; AF311 when the Project does not define it."""
    if requested is None or index.project is None:
        return TargetEnvironment(requested, None)
    project = index.project
    environments: Mapping[str, Environment] = project.spec.environments
    if requested not in environments:
        report.add(
            codes.UNKNOWN_ENVIRONMENT,
            project.file,
            project.doc.key_span(("spec", "environments")),
            f"environment '{requested}' (from --env) is not defined by the Project",
            hint=did_you_mean(requested, environments),
        )
        return TargetEnvironment(requested, None)
    return TargetEnvironment(requested, environments[requested])
