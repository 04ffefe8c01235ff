"""Scenarios: each Scenario checked against the workflow it runs.   AF901–AF911

Input: the `Index` and the compiled plans by workflow name (a workflow with errors has none:
its own diagnostics say why, and what depends on its plan is not checked). Output: the checked
scenarios as `af test` reads them (`agentflow.bundle.scenario.Scenario`), plus diagnostics:

- the workflow exists (AF901) and the input matches its ``input.schema`` (AF902);
- each stub names an agent or a tool (AF903); each answer is ``{output}`` or ``{error}``
  (AF904); each output matches the schema of every step the stub answers (AF905), and a stub
  that answers no step is a warning (AF906). A step with a tool is answered by the tool's stub
  when there is one, else by its agent's; an LLM plan's steps are its planner's turn and the
  steps of its fallback;
- each ``approvals`` key is an approval state of the workflow (or of its fallback, AF907) and
  each decision is exactly ``{approved: bool, approver: string, comment: string}`` (AF908);
- ``expect.status`` is one of `EXPECTABLE` (AF909) and it and ``expect.path`` are a run the
  workflow allows (AF910, `paths`); a step on the path that no stub answers is a warning
  (AF911), since ``af test`` reaches no network.

A scenario enters no bundle and no plan-cache key: `af build --scenarios FILE` writes the
checked ones beside the bundle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentflow.bundle.canonical import NotJsonError, canonical_json
from agentflow.bundle.plan import JsonText, Plan
from agentflow.bundle.scenario import EXPECTABLE, ApprovalAnswer, RunStatus, Scenario, StubAnswer
from agentflow.compiler.check.paths import check_path
from agentflow.compiler.check.stubs import (
    StepRef,
    answering_stub,
    approval_states,
    plan_steps,
    schema_errors,
)
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.scenario import ScenarioSpec

DECISION_FIELDS = {"approved": bool, "approver": str, "comment": str}
_TYPE_WORDS = {bool: "a boolean (true or false)", str: "a string"}


def check_scenarios(
    index: Index, plans: Mapping[str, Plan], report: Report
) -> tuple[Scenario, ...]:
    """Check every Scenario; return those without errors, by name."""
    checked = []
    for resource in index.all("Scenario"):
        scenario = _Check(index, plans, resource, report).run()
        if scenario is not None and index.named("Scenario").get(resource.name) is resource:
            checked.append(scenario)
    return tuple(sorted(checked, key=lambda s: s.name))


class _Check:
    """One scenario; `failed` once it reports an error."""

    def __init__(
        self,
        index: Index,
        plans: Mapping[str, Plan],
        resource: Resource[ScenarioSpec],
        report: Report,
    ) -> None:
        self.index, self.plans, self.resource, self.report = index, plans, resource, report
        self.spec = resource.spec
        self.failed = False

    def add(
        self,
        code: codes.Code,
        path: YamlPath,
        message: str,
        *,
        hint: str | None = None,
        key: bool = False,
    ) -> None:
        """Report at ``path`` (at its key when ``key``); an error fails the scenario."""
        doc = self.resource.doc
        span = doc.key_span(path) if key else doc.span(path)
        self.report.add(code, self.resource.file, span, message, hint=hint)
        self.failed = self.failed or code.severity == "error"

    def run(self) -> Scenario | None:
        plan = self._plan()
        self._check_answers()
        known = self._check_stub_names()
        if plan is not None:
            self._check_input(plan)
            self._check_stubs(plan, known)
        self._check_approvals(plan)
        status = self._check_status()
        if plan is not None and status is not None:
            self._check_path(plan, status)
        if self.failed or status is None:
            return None
        return self._compiled(status)

    def _plan(self) -> Plan | None:
        name = self.spec.workflow
        if self.index.get("Workflow", name) is None:
            if ("Workflow", name) not in self.index.invalid:
                self.add(
                    codes.SCENARIO_WORKFLOW,
                    ("spec", "workflow"),
                    f"workflow '{name}' is not defined",
                    hint=did_you_mean(name, self.index.named("Workflow")),
                )
            else:
                self.failed = True
            return None
        plan = self.plans.get(name)
        if plan is None:
            self.failed = True  # the workflow has errors of its own
        return plan

    def _check_input(self, plan: Plan) -> None:
        if plan.input_schema is None:
            return
        if "input" not in self.spec.model_fields_set:
            self.add(
                codes.SCENARIO_INPUT,
                ("spec",),
                f"the scenario gives no input, but workflow '{plan.name}' declares input.schema",
                hint="add spec.input",
                key=True,
            )
            return
        for where, message in schema_errors(plan.input_schema, self.spec.input):
            self.add(
                codes.SCENARIO_INPUT,
                ("spec", "input", *where),
                f"the input does not match the input.schema of workflow '{plan.name}': {message}",
            )

    def _check_answers(self) -> None:
        for name, answers in self.spec.stubs.items():
            for i, answer in enumerate(answers):
                given = answer.model_fields_set & {"output", "error"}
                if len(given) != 1:
                    self.add(
                        codes.STUB_ANSWER,
                        ("spec", "stubs", name, i),
                        f"answer {i + 1} of stub '{name}' must hold exactly one of output and "
                        f"error, not {' and '.join(sorted(given)) or 'neither'}",
                        hint="write {output: …} for a success or {error: TEXT} for a failure",
                    )

    def _check_stub_names(self) -> tuple[str, ...]:
        """AF903 for each stub that names neither an agent nor a tool; returns the others."""
        index, known = self.index, []
        for name in self.spec.stubs:
            if index.get("Agent", name) is not None or index.get("Tool", name) is not None:
                known.append(name)
            elif ("Agent", name) in index.invalid or ("Tool", name) in index.invalid:
                self.failed = True  # defined, but broken: its own diagnostics say why
            else:
                self.add(
                    codes.STUB_UNKNOWN,
                    ("spec", "stubs", name),
                    f"stub '{name}' names neither an agent nor a tool",
                    hint=did_you_mean(name, [*index.named("Agent"), *index.named("Tool")]),
                    key=True,
                )
        return tuple(known)

    def _check_stubs(self, plan: Plan, known: tuple[str, ...]) -> None:
        steps = tuple(plan_steps(plan, self.plans))
        stubs = self.spec.stubs
        for name in known:
            answered = [s for s in steps if answering_stub(s, stubs) == name]
            if not answered:
                self.add(
                    codes.STUB_UNUSED,
                    ("spec", "stubs", name),
                    f"stub '{name}' answers no step of workflow '{plan.name}'",
                    hint=_unused_hint(name, steps),
                    key=True,
                )
            for i, answer in enumerate(stubs[name]):
                if "output" in answer.model_fields_set and "error" not in answer.model_fields_set:
                    self._check_output(name, i, answer.output, answered)

    def _check_output(self, name: str, i: int, output: Any, steps: list[StepRef]) -> None:
        by_schema: dict[JsonText, list[str]] = {}
        for step in steps:
            if step.output_schema is not None:
                by_schema.setdefault(step.output_schema, []).append(step.label)
        for schema, labels in by_schema.items():
            for where, message in schema_errors(schema, output):
                self.add(
                    codes.STUB_OUTPUT,
                    ("spec", "stubs", name, i, "output", *where),
                    f"answer {i + 1} of stub '{name}' does not match the output schema of "
                    f"{' and '.join(labels)}: {message}",
                )

    def _check_approvals(self, plan: Plan | None) -> None:
        states = approval_states(plan, self.plans) if plan is not None else None
        for state, decision in self.spec.approvals.items():
            where = ("spec", "approvals", state)
            if states is not None and state not in states:
                self.add(
                    codes.APPROVAL_UNKNOWN,
                    where,
                    f"'{state}' is not an approval state of workflow '{self.spec.workflow}'",
                    hint=did_you_mean(state, states)
                    or "the workflow has no approval state: remove approvals",
                    key=True,
                )
            self._check_decision(where, decision)

    def _check_decision(self, where: YamlPath, decision: Mapping[str, Any]) -> None:
        for field in decision:
            if field not in DECISION_FIELDS:
                self.add(
                    codes.APPROVAL_DECISION,
                    (*where, field),
                    f"a decision has only approved, approver and comment, not '{field}'",
                    hint=did_you_mean(field, DECISION_FIELDS),
                    key=True,
                )
        for field, kind in DECISION_FIELDS.items():
            if field not in decision:
                self.add(
                    codes.APPROVAL_DECISION,
                    where,
                    f"the decision misses '{field}': it is {{approved, approver, comment}}",
                    key=True,
                )
            elif not isinstance(decision[field], kind):
                self.add(
                    codes.APPROVAL_DECISION,
                    (*where, field),
                    f"'{field}' must be {_TYPE_WORDS[kind]}, not {decision[field]!r}",
                )

    def _check_status(self) -> RunStatus | None:
        status = self.spec.expect.status
        if status not in EXPECTABLE:
            self.add(
                codes.EXPECT_STATUS,
                ("spec", "expect", "status"),
                f"'{status}' is not a status a run ends in: {', '.join(EXPECTABLE)}",
                hint=did_you_mean(status, EXPECTABLE),
            )
            return None
        return status

    def _check_path(self, plan: Plan, status: RunStatus) -> None:
        path = self.spec.expect.path
        decided = frozenset(self.spec.approvals)
        problem = check_path(plan, self.plans, path, status, decided)
        if problem is not None:
            at: YamlPath = ("spec", "expect", "status")
            if problem.index is not None:
                at = ("spec", "expect", "path", problem.index)
            self.add(codes.EXPECT_PATH, at, problem.message, hint=problem.hint)
            return
        stubs = self.spec.stubs
        steps = tuple(plan_steps(plan, self.plans))
        warned: set[str] = set()
        for i, name in enumerate(path or ()):
            named = [s for s in steps if s.name == name]
            if name in warned or not named or any(answering_stub(s, stubs) for s in named):
                continue
            warned.add(name)
            step = named[0]
            tool = f" or '{step.tool}'" if step.tool is not None else ""
            self.add(
                codes.PATH_UNSTUBBED,
                ("spec", "expect", "path", i),
                f"no stub answers {step.label} on the path: af test reaches no network",
                hint=f"add a stub for '{step.agent}'{tool}",
            )

    def _compiled(self, status: RunStatus) -> Scenario | None:
        spec, doc = self.spec, self.resource.doc
        try:
            stubs = tuple(
                (name, tuple(_answer(a) for a in answers))
                for name, answers in sorted(spec.stubs.items())
            )
            given = spec.input if "input" in spec.model_fields_set else None
            text = None if given is None else canonical_json(given).decode("utf-8")
        except NotJsonError as error:
            self.add(
                codes.NOT_JSON,
                ("spec",),
                f"this scenario cannot be written as JSON: {error}",
                key=True,
            )
            return None
        approvals = tuple(
            (state, ApprovalAnswer(**{f: d[f] for f in DECISION_FIELDS}))
            for state, d in sorted(spec.approvals.items())
        )
        return Scenario(
            name=self.resource.name,
            workflow=spec.workflow,
            input=text,
            stubs=stubs,
            approvals=approvals,
            expect_status=status,
            expect_path=spec.expect.path,
            file=self.resource.file,
            line=doc.span(("metadata", "name")).line,
        )


def _answer(answer: Any) -> StubAnswer:
    if answer.error is not None:
        return StubAnswer(output=None, error=answer.error)
    output = None if answer.output is None else canonical_json(answer.output).decode("utf-8")
    return StubAnswer(output=output, error=None)


def _unused_hint(name: str, steps: tuple[StepRef, ...]) -> str:
    if any(s.agent == name or s.tool == name for s in steps):
        return f"every step of '{name}' is answered by another stub (a tool's comes first)"
    return "the workflow's steps run: " + ", ".join(
        sorted({s.agent for s in steps} | {s.tool for s in steps if s.tool is not None})
    )
