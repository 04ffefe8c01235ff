"""Workflow graphs: each workflow is checked by its planner's checks.   AF4xx

Input: the `Index` of validated resources. Output: diagnostics only. The checks per planner sit
behind one `WorkflowCheck` protocol in a dict registry, so a new planner adds a module and an
entry: `fsm` (states and transitions), `bt` (behavior trees) and `llm` (the
LLM planner's bounds), with step timing shared in `timing`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

from agentflow.compiler.check.bt import check_bt
from agentflow.compiler.check.fsm import check_fsm
from agentflow.compiler.check.llm import check_llm
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.workflow import WorkflowSpec


class WorkflowCheck(Protocol):
    def __call__(self, index: Index, workflow: Resource[WorkflowSpec], report: Report) -> None: ...


CHECKS: Mapping[str, WorkflowCheck] = MappingProxyType(
    {"fsm": check_fsm, "bt": check_bt, "llm": check_llm}
)
"""Planner name → the checks for its workflows."""


def check_workflows(index: Index, report: Report) -> None:
    """Check every workflow, duplicates included, with its planner's checks."""
    for workflow in index.all("Workflow"):
        check = CHECKS.get(workflow.spec.planner)
        if check is not None:
            check(index, workflow, report)
