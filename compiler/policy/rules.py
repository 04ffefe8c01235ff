"""Policy rules: each rule's CEL, evaluated over every resource it matches.   AF607, AF608

Input: the `Index`, the policies in force (the repository's and the selected packs'), the
compiled conditions and the environment being validated. Output: diagnostics only.

A rule sees the matched resource as written — ``spec`` and ``metadata`` as plain data, ``kind``
as a string — and ``env``, the environment being validated (`environment_view`). ``true`` passes;
``false`` is a violation (AF607) with the rule's severity; an evaluation error, or a result that
is not a bool, is AF608: a rule that cannot say yes must not pass silently.

A violation points at the deepest part of the resource that the rule reads and that exists: for
``has(spec.timeout)`` on a tool without one, at its ``spec``; for ``spec.llm.temperature <= 0.2``,
at the temperature. The hint names the rule and where it is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from agentflow.bundle.conditions import ConditionError, ConditionEvaluator
from agentflow.compiler.cel.sites import RULE_VARIABLES, CompiledCondition, ConditionKey
from agentflow.compiler.check.environment import TargetEnvironment
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import Span, YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.policy import KindName, PolicySpec, Rule
from agentflow.compiler.policy.packs import PolicyPack

KINDS_IN_ORDER: tuple[KindName, ...] = (
    "Project",
    "Policy",
    "Tool",
    "Agent",
    "Workflow",
    "Template",
    "TemplateInstance",
    "Scenario",
)
_KIND_WORDS = re.compile(r"(?<=[a-z])(?=[A-Z])")
"""Where ``TemplateInstance`` splits into words."""
_FIELD_PATH = re.compile(r"\b(spec|metadata)((?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)+)")


def environment_view(target: TargetEnvironment) -> dict[str, Any]:
    """``env`` in a rule: always the same keys, so a rule never fails on a missing one.

    Without ``--env`` the environment is anonymous and its residency ``"off"``: rules about an
    environment's constraints pass, as `af validate` checks those only when asked to.
    """
    environment = target.spec
    if environment is None:
        return {"name": "", "sandbox": "", "residency": "off", "region": "", "toggles": {}}
    return {
        "name": target.name or "",
        "sandbox": environment.sandbox or "",
        "residency": environment.residency,
        "region": environment.region or "",
        "toggles": dict(environment.toggles),
    }


def check_rules(
    index: Index,
    packs: tuple[PolicyPack, ...],
    conditions: Mapping[ConditionKey, CompiledCondition],
    env: Mapping[str, Any],
    report: Report,
) -> None:
    policies = (*index.all("Policy"), *(pack.policy for pack in packs))
    resources = tuple(r for kind in KINDS_IN_ORDER for r in index.all(kind))
    evaluator: ConditionEvaluator | None = None
    for policy in policies:
        for i, rule in enumerate(policy.spec.rules):
            compiled = conditions.get(("Policy", policy.name, ("spec", "rules", i, "expr")))
            if compiled is None:
                continue  # the expression did not compile: AF5xx says why
            evaluator = evaluator or ConditionEvaluator(RULE_VARIABLES)
            for resource in resources:
                if matches(rule, resource):
                    _apply(evaluator, policy, i, rule, compiled, resource, env, report)


def matches(rule: Rule, resource: Resource[object]) -> bool:
    match = rule.match
    if match.kinds and resource.kind not in match.kinds:
        return False
    if match.names and resource.name not in match.names:
        return False
    labels = resource.model.metadata.labels
    return all(labels.get(key) == value for key, value in match.labels.items())


def _apply(
    evaluator: ConditionEvaluator,
    policy: Resource[PolicySpec],
    index: int,
    rule: Rule,
    compiled: CompiledCondition,
    resource: Resource[object],
    env: Mapping[str, Any],
    report: Report,
) -> None:
    data = resource.doc.data
    context = {
        "spec": data.get("spec", {}),
        "metadata": data.get("metadata", {}),
        "kind": resource.kind,
        "env": dict(env),
    }
    try:
        outcome: bool | str = evaluator.evaluate(compiled.checked, context)
    except ConditionError as error:
        outcome = str(error)
    if outcome is True:
        return
    where = _rule_place(policy, index)
    subject = f"{_KIND_WORDS.sub(' ', resource.kind).lower()} '{resource.name}'"
    if outcome is False:
        code, severity = codes.RULE_VIOLATED, rule.severity
        message = f"{subject} violates rule '{rule.name}': {rule.message}"
        hint = f"the rule is {where}"
    else:
        code, severity = codes.RULE_FAILED, codes.RULE_FAILED.severity
        message = f"rule '{rule.name}' cannot be evaluated on {subject}: {outcome}"
        hint = f"the rule is {where}; guard optional fields with has(), e.g. has(spec.timeout)"
    span = _violation_span(resource, compiled.source)
    report.add(code, resource.file, span, message, hint=hint, severity=severity)


def _rule_place(policy: Resource[PolicySpec], index: int) -> str:
    span = policy.doc.span(("spec", "rules", index, "expr"))
    if policy.file.startswith("<"):  # a built-in pack: not a file of the repository
        return f"in policy pack {policy.name} ({policy.file}:{span.line})"
    return f"at {policy.file}:{span.line} (policy '{policy.name}')"


def _violation_span(resource: Resource[object], source: str) -> Span:
    """The deepest existing node among the fields the expression reads.

    A mapping is pointed at by its key (``spec:`` of a tool that lacks a timeout), any other
    value at the value itself.
    """
    best: YamlPath = ()
    best_value: Any = None
    for path in _read_paths(source):
        existing, value = _deepest(resource.doc.data, path)
        if len(existing) > len(best):
            best, best_value = existing, value
    if not best:
        return resource.doc.span(("metadata", "name"))
    if isinstance(best_value, dict):
        return resource.doc.key_span(best)
    return resource.doc.span(best)


def _read_paths(source: str) -> Iterator[YamlPath]:
    for match in _FIELD_PATH.finditer(source):
        fields = [part.strip() for part in match.group(2).split(".") if part.strip()]
        yield (match.group(1), *fields)


def _deepest(data: Any, path: YamlPath) -> tuple[YamlPath, Any]:
    """The longest prefix of ``path`` present in ``data``, and the value there."""
    found: list[str | int] = []
    for step in path:
        if not isinstance(data, dict) or step not in data:
            break
        found.append(step)
        data = data[step]
    return tuple(found), data
