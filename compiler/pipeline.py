"""The compiler's stages in order, each reporting into one `Report` and keeping going.

snapshot → load (AF1xx) → schema (AF2xx) → templates (AF7xx: rendered resources join the index)
→ refs (AF3xx) → packs (AF309) → graph (AF4xx) → conditions (AF5xx) → policy, rules (AF6xx)
→ credentials (AF613) → plans (AF802) → scenarios (AF9xx) → profiles, tools, environment
(AF609–AF611, AF802) → costs (AF612) → compat (AF8xx)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agentflow.bundle.plan import Plan
from agentflow.bundle.profile import ExecProfile
from agentflow.bundle.queries import reachable_pairs
from agentflow.bundle.scenario import Scenario
from agentflow.bundle.tool import ToolSpec
from agentflow.compiler.cel.conditions import check_conditions
from agentflow.compiler.cel.sites import CompiledCondition, ConditionKey
from agentflow.compiler.check.compat import check_compatibility
from agentflow.compiler.check.environment import TargetEnvironment, resolve_environment
from agentflow.compiler.check.references import check_references
from agentflow.compiler.check.scenarios import check_scenarios
from agentflow.compiler.check.workflows import check_workflows
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index, build_index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.load.schema import invalid_names, validate_resources
from agentflow.compiler.load.yaml import load_documents
from agentflow.compiler.model.policy import PolicySpec
from agentflow.compiler.plan.compile import compile_plans
from agentflow.compiler.plan.cost import PlanCost, preflight_costs
from agentflow.compiler.plan.environment import check_environment
from agentflow.compiler.plan.profiles import derive_profiles
from agentflow.compiler.plan.tools import derive_tools
from agentflow.compiler.policy.packs import PolicyPack, resolve_packs
from agentflow.compiler.policy.roles import check_policies
from agentflow.compiler.policy.rules import check_rules, environment_view
from agentflow.compiler.policy.secrets import check_credentials
from agentflow.compiler.source.snapshot import Snapshot
from agentflow.compiler.templates.registry import TemplateUse, expand_templates


@dataclass(frozen=True, slots=True)
class Validation:
    report: Report
    index: Index
    target: TargetEnvironment
    """The environment ``--env`` asked for, resolved once for every stage."""
    packs: tuple[PolicyPack, ...]
    policies: tuple[Resource[PolicySpec], ...]
    """The policies in force: the repository's, then the selected packs'."""
    conditions: Mapping[ConditionKey, CompiledCondition]
    plans: Mapping[str, Plan]
    """Every workflow's normalized plan, by name."""
    pairs: Mapping[str, frozenset[tuple[str, str | None]]]
    """The (agent, tool) pairs each plan can run, by workflow name (`queries.reachable_pairs`)."""
    profiles: Mapping[str, ExecProfile]
    """Every reachable (agent, tool) pair's profile, by id."""
    tools: Mapping[str, ToolSpec]
    """How to call every reachable tool, by name (``tools/<name>.json``)."""
    costs: Mapping[str, PlanCost]
    """Every plan's static cost (worst case and typical), by workflow name."""
    templates: tuple[TemplateUse, ...]
    """Each rendered instance with its template's name and resolved version (SPEC §3)."""
    scenarios: tuple[Scenario, ...] = ()
    """Every Scenario that checked, by name: for `af test`, never part of a bundle."""


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
    target = resolve_environment(index, environment, report)
    conditions = check_conditions(index, report, snapshot, (p.policy for p in packs), target.name)
    check_policies(index, policies, report)
    check_credentials(index, report)
    check_rules(index, packs, conditions, environment_view(target), report)
    plans = compile_plans(index, conditions, report)
    scenarios = check_scenarios(index, plans, report)
    pairs = MappingProxyType({name: reachable_pairs(plan) for name, plan in plans.items()})
    reached = frozenset().union(*pairs.values())
    profiles = derive_profiles(index, reached, policies, target)
    tools = derive_tools(index, (tool for _, tool in reached if tool is not None), report)
    check_environment(index, policies, reached, target, report)
    costs = preflight_costs(index, plans, profiles, policies, report)
    check_compatibility(index, report)
    return Validation(
        report=report,
        index=index,
        target=target,
        packs=packs,
        policies=policies,
        conditions=conditions,
        plans=plans,
        pairs=pairs,
        profiles=profiles,
        tools=tools,
        costs=costs,
        templates=expansion.uses,
        scenarios=scenarios,
    )
