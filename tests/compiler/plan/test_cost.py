"""Cost preflight: each plan's worst-case and typical figures, and AF612 against agent budgets."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentflow.compiler.diagnostics.report import Diagnostic
from agentflow.compiler.pipeline import Validation, validate_snapshot
from agentflow.compiler.plan.cost import PlanCost, Spend, format_dollars
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO, ROOT
from tests.repos import found, write_repo

TOOL = """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {{name: {name}}}
spec:
  version: 1.0.0
  type: http
  endpoint: https://{name}.example.com/
  timeout: 10s
  cost: {{perCall: {per_call}}}
"""

AGENTS = """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: caller}
spec:
  type: tool
  role: worker
  tools: [cheap, dear]
  budget: {dollars: BUDGET}
"""

THINKER = """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: thinker}
spec:
  type: llm
  role: worker
  model: {provider: vllm, name: small, maxTokens: 100}
  tools: [cheap, dear]
  retry: {maxAttempts: 2}
"""

POLICY = """\
apiVersion: agentflow.dev/v1
kind: Policy
metadata: {name: rbac}
spec:
  roles:
    worker: {allowedTools: [cheap, dear]}
  LIMITS
"""


def costs_of(
    root: Path, workflows: dict[str, str], *, budget: str = "100", limits: str = ""
) -> tuple[dict[str, dict[str, Any]], list[Diagnostic]]:
    """A mini repo with tools ``cheap`` ($0.1) and ``dear`` ($0.3), a tool agent ``caller`` and
    an llm agent ``thinker`` (100 tokens, 2 attempts): each workflow's cost JSON, diagnostics."""
    files = {
        "tools/cheap.yaml": TOOL.format(name="cheap", per_call="0.1"),
        "tools/dear.yaml": TOOL.format(name="dear", per_call="0.3"),
        "agents/caller.yaml": AGENTS.replace("BUDGET", budget),
        "agents/thinker.yaml": THINKER,
        "policies/rbac.yaml": POLICY.replace("LIMITS", limits),
        **{f"workflows/{name}.yaml": text for name, text in workflows.items()},
    }
    validation = validate_snapshot(read_folder(write_repo(root, files)))
    costs = {name: cost.to_json() for name, cost in validation.costs.items()}
    return costs, validation.report.diagnostics()


def figures(dollars: float, tokens: int, calls: int) -> dict[str, Any]:
    return {"bounded": True, "dollars": dollars, "tokens": tokens, "toolCalls": calls}


UNBOUNDED = {"bounded": False}


def fsm(states: str, finals: str = "[done, failed]") -> str:
    return (
        "apiVersion: agentflow.dev/v1\nkind: Workflow\nmetadata: {name: flow}\nspec:\n"
        f"  initial_state: start\n  final_states: {finals}\n  states:\n{states}"
    )


def then_think(start: str) -> str:
    """An FSM workflow of state ``start`` (as written), then a final ``done`` by thinker."""
    return fsm(f"    start: {start}\n    done: {{agent: thinker}}\n", "[done]")


def test_fsm_worst_case_takes_retries_and_error_edges(tmp_path: Path) -> None:
    states = """\
    start:
      agent: caller
      tool: cheap
      retry: {maxAttempts: 3}
      on_success: think
      on_error: failed
    think: {agent: thinker, on_success: done}
    done: {agent: caller, tool: cheap}
    failed: {agent: caller, tool: dear, retry: {maxAttempts: 2}}
"""
    costs, diagnostics = costs_of(tmp_path, {"flow": fsm(states)})
    assert found(diagnostics) == []
    # start 3 × $0.1; then think 2 × 100 tokens + done $0.1, or failed 2 × $0.3. Each figure
    # is its own maximum: dollars and calls from the error path, tokens from the success path.
    assert costs["flow"] == {
        "worstCase": figures(0.9, 200, 5),
        "typical": figures(0.2, 100, 2),
    }


def test_dollars_are_decimal_exact(tmp_path: Path) -> None:
    """3 × $0.1 is $0.3, not the 0.30000000000000004 of doubles, and fits a $0.3 budget."""
    flow = then_think("{agent: caller, tool: cheap, retry: {maxAttempts: 3}, on_success: done}")
    costs, diagnostics = costs_of(tmp_path, {"flow": flow}, budget="0.3")
    assert costs["flow"]["worstCase"]["dollars"] == 0.3
    assert found(diagnostics) == []
    assert format_dollars(Spend(dollars=Decimal("0.1")).times(3).dollars) == "$0.30"
    assert format_dollars(Decimal("0.0000123")) == "$0.0000123"


def test_a_reachable_cycle_makes_the_worst_case_unbounded(tmp_path: Path) -> None:
    states = """\
    start: {agent: caller, tool: cheap, on_success: check}
    check:
      agent: thinker
      transitions:
        - {condition: "true", target: done}
        - target: start
    done: {agent: caller, tool: dear}
"""
    costs, diagnostics = costs_of(tmp_path, {"flow": fsm(states, "[done]")}, budget="0")
    assert costs["flow"] == {"worstCase": UNBOUNDED, "typical": figures(0.4, 100, 2)}
    assert found(diagnostics) == []  # unbounded is not over budget, even a budget of $0


def test_a_typical_path_that_loops_is_unbounded(tmp_path: Path) -> None:
    states = """\
    start: {agent: caller, tool: cheap, on_success: check}
    check:
      agent: thinker
      transitions:
        - {condition: "true", target: start}
        - target: done
    done: {agent: caller, tool: dear}
"""
    costs, _ = costs_of(tmp_path, {"flow": fsm(states, "[done]")})
    assert costs["flow"] == {"worstCase": UNBOUNDED, "typical": UNBOUNDED}


BT = """\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {name: tree}
spec:
  planner: bt
  root:
    sequence:
      - action: {agent: thinker}
      - condition: {when: "true"}
      - selector:
          - action: {agent: caller, tool: dear}
          - action: {agent: caller, tool: cheap, retry: {maxAttempts: 2}}
      - conditional_selector:
          - when: "true"
            do: {action: {agent: caller, tool: cheap}}
          - do:
              parallel:
                policy: one_success
                children:
                  - action: {agent: caller, tool: cheap}
                  - action: {agent: caller, tool: dear}
"""


def test_behavior_tree_shapes(tmp_path: Path) -> None:
    costs, diagnostics = costs_of(tmp_path, {"tree": BT})
    assert found(diagnostics) == []
    # worst: thinker 2 × 100 tokens; the selector tries both children ($0.3 + 2 × $0.1);
    # the conditional_selector's costlier branch, the parallel ($0.1 + $0.3).
    # typical: thinker once; the selector's first child; the first branch.
    assert costs["tree"] == {
        "worstCase": figures(0.9, 200, 5),
        "typical": figures(0.4, 100, 2),
    }


LLM = """\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {name: planned}
spec:
  planner: llm
  llm: {agent: thinker, maxSteps: 3, allowedDecisions: [go], fallback: flow}
"""


def test_llm_planner_with_fallback(tmp_path: Path) -> None:
    flow = then_think("{agent: caller, tool: cheap, on_success: done}")
    costs, diagnostics = costs_of(tmp_path, {"planned": LLM, "flow": flow})
    assert found(diagnostics) == []
    # worst: 3 steps × 2 attempts × (100 tokens + the dearer tool, $0.3), then the fallback
    # at worst ($0.1 and 2 × 100 tokens). typical: 3 steps × (100 tokens + $0.3), no fallback.
    assert costs["flow"]["worstCase"] == figures(0.1, 200, 1)
    assert costs["planned"] == {
        "worstCase": figures(1.9, 800, 7),
        "typical": figures(0.9, 300, 3),
    }


def test_over_budget_is_a_warning_by_default_and_an_error_by_policy(tmp_path: Path) -> None:
    flow = then_think("{agent: caller, tool: dear, retry: {maxAttempts: 2}, on_success: done}")
    workflow = {"flow": flow}
    _, diagnostics = costs_of(tmp_path / "a", workflow, budget="0.5")
    [warning] = diagnostics
    assert (warning.code, warning.severity, warning.file, warning.line) == (
        "AF612",
        "warning",
        "agents/caller.yaml",
        8,
    )
    assert "workflow 'flow' can spend $0.60 (2 tool calls)" in warning.message
    assert "agent 'caller': $0.50 per day" in warning.message
    limits = "limits: {overBudget: error}"
    _, diagnostics = costs_of(tmp_path / "b", workflow, budget="0.5", limits=limits)
    assert [(d.code, d.severity) for d in diagnostics] == [("AF612", "error")]


def test_the_example_repository_is_within_its_budgets() -> None:
    validation = validate_snapshot(read_folder(EXAMPLE_REPO))
    assert validation.report.diagnostics() == []
    costs = validation.costs
    assert sorted(costs) == sorted(validation.plans)
    triage = costs["support-triage"]
    assert isinstance(triage, PlanCost) and triage.worst_case is not None
    assert triage.worst_case.dollars == Decimal("0.0026")


# --- determinism -----------------------------------------------------------------------------


def _cost_json(validation: Validation) -> str:
    return json.dumps({n: c.to_json() for n, c in validation.costs.items()}, sort_keys=True)


EXAMPLE_COSTS = _cost_json(validate_snapshot(read_folder(EXAMPLE_REPO)))


def _shuffled(value: Any, rng: random.Random, text: str) -> Any:
    """The same data with mapping keys in another order and descriptions rewritten."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: (text if k == "description" else _shuffled(v, rng, text)) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng, text) for v in value]
    return value


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    text=st.text(max_size=30),
    label=st.from_regex(r"[a-z]{1,8}", fullmatch=True),
)
def test_cosmetic_edits_change_no_cost(seed: int, text: str, label: str) -> None:
    """Key order, comments, descriptions and labels never move a figure."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for path in sorted(EXAMPLE_REPO.rglob("*")):
            target = root / path.relative_to(EXAMPLE_REPO)
            if path.is_dir():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix != ".yaml" or "templates" in path.parts:
                target.write_bytes(path.read_bytes())
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            data["metadata"]["labels"] = {"cosmetic": label}
            data = _shuffled(data, rng, text)
            target.write_text("# a comment\n" + yaml.safe_dump(data, sort_keys=False))
        assert _cost_json(validate_snapshot(read_folder(root))) == EXAMPLE_COSTS


def test_costs_do_not_depend_on_the_hash_seed() -> None:
    outputs = {
        subprocess.run(
            [sys.executable, "-c", _docs_command()],
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "random")
    }
    assert len(outputs) == 1


def _docs_command() -> str:
    """The Python of docs/cost.md's command that prints the example's figures."""
    text = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    command = re.search(r"^python -c '(.*)'$", text, re.MULTILINE)
    assert command is not None
    return command.group(1)


def test_the_docs_show_what_the_command_prints() -> None:
    text = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    shown = re.search(r"```console\n(.*?)```", text, re.DOTALL)
    assert shown is not None
    printed = subprocess.run(
        [sys.executable, "-c", _docs_command()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == shown.group(1)
