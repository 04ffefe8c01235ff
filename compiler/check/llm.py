"""LLM-planner workflows: the planner's bounds and its fallback.   AF4xx

Input: a validated ``planner: llm`` workflow. Output: diagnostics only. A planner must be close
to deterministic (temperature, AF412), bounded (maxSteps, AF413), choose from a clear set of
decisions (AF414) and fall back to an FSM workflow (AF415). An unknown fallback is AF304, from
the references stage, and is not reported again here.
"""

from __future__ import annotations

from typing import Final

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.workflow import FsmWorkflow, LlmWorkflow, WorkflowSpec

MAX_TEMPERATURE: Final = 0.2
MAX_STEPS: Final = 50
_LLM = ("spec", "llm")


def check_llm(index: Index, workflow: Resource[WorkflowSpec], report: Report) -> None:
    """AF412–AF415 for one LLM-planner workflow."""
    spec = workflow.spec
    if not isinstance(spec, LlmWorkflow):
        return
    llm, doc = spec.llm, workflow.doc
    if llm.temperature > MAX_TEMPERATURE:
        report.add(
            codes.LLM_TEMPERATURE,
            workflow.file,
            doc.span((*_LLM, "temperature")),
            f"planner temperature {llm.temperature:g} is above {MAX_TEMPERATURE:g}",
            hint=f"a planner should be close to deterministic; use 0 to {MAX_TEMPERATURE:g}",
        )
    if llm.max_steps > MAX_STEPS:
        report.add(
            codes.LLM_MAX_STEPS,
            workflow.file,
            doc.span((*_LLM, "maxSteps")),
            f"maxSteps {llm.max_steps} is more than {MAX_STEPS}",
            hint="a plan this long belongs in an FSM workflow",
        )
    _check_decisions(workflow, llm.allowed_decisions, report)
    if llm.fallback is not None:
        fallback = index.get("Workflow", llm.fallback)
        if fallback is not None and not isinstance(fallback.spec, FsmWorkflow):
            report.add(
                codes.LLM_FALLBACK,
                workflow.file,
                doc.span((*_LLM, "fallback")),
                f"fallback '{llm.fallback}' uses the {fallback.spec.planner} planner, not fsm",
                hint="the fallback runs when planning fails, so it must not plan: "
                "name a 'planner: fsm' workflow",
            )


def _check_decisions(
    workflow: Resource[WorkflowSpec], decisions: tuple[str, ...], report: Report
) -> None:
    path = (*_LLM, "allowedDecisions")
    if not decisions:
        report.add(
            codes.LLM_DECISIONS,
            workflow.file,
            workflow.doc.key_span(path),
            "allowedDecisions is empty, so the planner can decide nothing",
            hint="list the decisions the planner may take",
        )
    seen: set[str] = set()
    for i, decision in enumerate(decisions):
        if decision in seen:
            report.add(
                codes.LLM_DECISIONS,
                workflow.file,
                workflow.doc.span((*path, i)),
                f"decision '{decision}' is listed more than once",
                hint="remove the repeat",
            )
        seen.add(decision)
