"""The compiler's stages in order, each reporting into one `Report` and keeping going.

snapshot → load (AF1xx) → schema (AF2xx) → templates (AF7xx: rendered resources join the index)
→ refs (AF3xx) → packs (AF309) → graph (AF4xx) → conditions (AF5xx) → policy, rules (AF6xx)
→ plans (AF802) → profiles (AF609–AF611) → costs (AF612) → compat (AF8xx)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agentflow.bundle.plan import Plan
from agentflow.bundle.profile import ExecProfile
from agentflow.bundle.queries import reachable_pairs
from agentflow.compiler.cel.conditions import check_conditions
from agentflow.compiler.cel.sites import CompiledCondition, ConditionKey
from agentflow.compiler.check.compat import check_compatibility
from agentflow.compiler.check.references import check_references
from agentflow.compiler.check.workflows import check_workflows
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load.index import Index, build_index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.load.schema import invalid_names, validate_resources
from agentflow.compiler.load.yaml import load_documents
from agentflow.compiler.model.project import Environment
from agentflow.compiler.plan.compile import compile_plans
from agentflow.compiler.plan.cost import PlanCost, preflight_costs
from agentflow.compiler.plan.environment import check_environment
from agentflow.compiler.plan.profiles import derive_profiles
from agentflow.compiler.policy.packs import PolicyPack, resolve_packs
from agentflow.compiler.policy.roles import check_policies
from agentflow.compiler.policy.rules import check_rules, environment_view
from agentflow.compiler.source.snapshot import Snapshot
from agentflow.compiler.templates.registry import TemplateUse, expand_templates


@dataclass(frozen=True, slots=True)
class Validation:
    report: Report
    index: Index
    environment: str | None
    packs: tuple[PolicyPack, ...]
    policies: tuple[Resource, ...]
    """The policies in force: the repository's, then the selected packs'."""
    conditions: Mapping[ConditionKey, CompiledCondition]
    plans: Mapping[str, Plan]
    """Every workflow's normalized plan, by name."""
    profiles: Mapping[str, ExecProfile]
    """Every reachable (agent, tool) pair's profile, by id."""
    costs: Mapping[str, PlanCost]
    """Every plan's static cost (worst case and typical), by workflow name."""
    templates: tuple[TemplateUse, ...]
    """Each rendered instance with its template's name and resolved version (SPEC §3)."""


def validate_snapshot(snapshot: Snapshot, *, environment: str | None = None) -> Validation:
    """Every check of SPEC §2 `af validate`, collected into one report."""
    report = Report()
    resource_files = snapshot.resource_files()
    report.files_checked = len(resource_files)
    documents = load_documents(resource_files, report)
    resources = validate_resources(documents, report)
    index = build_index(resources, report, invalid_names(documents, resources))
    expansion = expand_templates(index, snapshot, report)
    index = expansion.index
    check_references(index, report)
    packs = resolve_packs(index, report)
    policies = (*index.all("Policy"), *(pack.policy for pack in packs))
    check_workflows(index, report)
    env = _check_environment(index, environment, report)
    known_env = environment if env else None
    conditions = check_conditions(index, report, snapshot, (p.policy for p in packs), known_env)
    check_policies(index, policies, report)
    check_rules(index, packs, conditions, environment_view(environment, env), report)
    plans = compile_plans(index, conditions, report)
    pairs = {pair for plan in plans.values() for pair in reachable_pairs(plan)}
    profiles = derive_profiles(index, pairs, policies, known_env)
    check_environment(index, policies, pairs, known_env, report)
    costs = preflight_costs(index, plans, profiles, policies, report)
    check_compatibility(index, report)
    return Validation(
        report=report,
        index=index,
        environment=environment,
        packs=packs,
        policies=policies,
        conditions=conditions,
        plans=plans,
        profiles=profiles,
        costs=costs,
        templates=expansion.uses,
    )


def _check_environment(index: Index, environment: str | None, report: Report) -> Environment | None:
    """The environment ``--env`` names, when the Project defines it."""
    if environment is None or index.project is None:
        return None
    environments: Mapping[str, Environment] = index.project.spec.environments
    if environment not in environments:
        project = index.project
        report.add(
            codes.UNKNOWN_ENVIRONMENT,
            project.file,
            project.doc.key_span(("spec", "environments")),
            f"environment '{environment}' (from --env) is not defined by the Project",
            hint=did_you_mean(environment, environments),
        )
        return None
    return environments[environment]
