"""The compiler's stages in order, each reporting into one `Report` and keeping going.

snapshot → load (AF1xx) → schema (AF2xx) → refs (AF3xx) → graph (AF4xx) → conditions (AF5xx)
→ policy (AF6xx) → compat (AF8xx)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import codes
from .compat import check_compatibility
from .conditions import CompiledCondition, ConditionKey, check_conditions
from .diagnostics import Report
from .graph import check_workflows
from .load import load_documents
from .policy import check_policies
from .refs import Index, build_index, check_references
from .schema import validate_resources
from .source import Snapshot
from .suggest import did_you_mean


@dataclass(frozen=True, slots=True)
class Validation:
    report: Report
    index: Index
    environment: str | None
    conditions: Mapping[ConditionKey, CompiledCondition]
    """Every condition that compiled, by (kind, name, path): what plans carry."""


def validate_snapshot(snapshot: Snapshot, *, environment: str | None = None) -> Validation:
    """Every check of SPEC §2 `af validate`, collected into one report."""
    report = Report()
    resource_files = snapshot.resource_files()
    report.files_checked = len(resource_files)
    documents = load_documents(resource_files, report)
    resources = validate_resources(documents, report)
    index = build_index(resources, report)
    check_references(index, report)
    check_workflows(index, report)
    conditions = check_conditions(index, report, snapshot)
    check_policies(index, report)
    check_compatibility(index, report)
    _check_environment(index, environment, report)
    return Validation(report=report, index=index, environment=environment, conditions=conditions)


def _check_environment(index: Index, environment: str | None, report: Report) -> None:
    if environment is None or index.project is None:
        return
    environments = index.project.spec.environments
    if environment not in environments:
        project = index.project
        report.add(
            codes.UNKNOWN_ENVIRONMENT,
            project.file,
            project.doc.key_span(("spec", "environments")),
            f"environment '{environment}' (from --env) is not defined by the Project",
            hint=did_you_mean(environment, environments),
        )
