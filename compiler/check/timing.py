"""Step timing: timeouts and retry budgets against the workflow timeout.   AF407 / AF408

Input: one step (an FSM state or a BT action) of a validated workflow. Output: diagnostics only.
Shared by the FSM and BT graph checks. Retry bounds are checked always; timeouts only when the
workflow declares one, since without it there is nothing to fit into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.base import Retry
from agentflow.compiler.model.units import duration_ms
from agentflow.compiler.model.workflow import WorkflowSpec

MAX_ATTEMPTS: Final = 100
"""More attempts than this is a loop, not a retry policy."""


@dataclass(frozen=True, slots=True)
class StepTiming:
    """What a step declares about time, and where it sits in its workflow's document."""

    path: YamlPath
    timeout: str | None
    retry: Retry | None
    attempt_fallback_ms: int = 0
    """Per-attempt time when the step declares no timeout (its tool's timeout, else 0)."""


def find_workflow_limit_ms(workflow: Resource[WorkflowSpec]) -> int | None:
    """The workflow timeout in milliseconds, or ``None`` when it declares none."""
    timeout: str | None = workflow.spec.timeout
    return None if timeout is None else duration_ms(timeout)


def find_tool_timeout_ms(index: Index, tool_name: str | None) -> int:
    """A step's tool timeout, or 0 when it has no tool or the tool declares none."""
    tool = None if tool_name is None else index.get("Tool", tool_name)
    timeout: str | None = None if tool is None else tool.spec.timeout
    return 0 if timeout is None else duration_ms(timeout)


def sum_backoff_ms(retry: Retry) -> int:
    """The sum of the waits between attempts: ``maxAttempts - 1`` of them.

    ``constant`` waits initialDelay each time, ``linear`` adds it (d, 2d, 3d, ...) and
    ``exponential`` doubles it (d, 2d, 4d, ...); every wait is capped at maxDelay. No
    initialDelay means no wait. Closed forms keep the cost flat in maxAttempts, except that an
    uncapped exponential sum has about maxAttempts bits: callers check `MAX_ATTEMPTS` first.
    """
    waits = retry.max_attempts - 1
    first = 0 if retry.initial_delay is None else duration_ms(retry.initial_delay)
    cap = None if retry.max_delay is None else duration_ms(retry.max_delay)
    if waits <= 0 or first == 0:
        return 0
    if cap is not None and first >= cap:
        return waits * cap
    if retry.backoff == "constant":
        return waits * first
    if retry.backoff == "linear":  # wait k is first * k: at most the cap while k <= cap // first
        below = waits if cap is None else min(waits, cap // first)
        return first * below * (below + 1) // 2 + (waits - below) * (cap or 0)
    # exponential: wait k is first * 2**(k-1): at most the cap while 2**(k-1) <= cap // first
    below = waits if cap is None else min(waits, (cap // first).bit_length())
    return first * ((1 << below) - 1) + (waits - below) * (cap or 0)


def compute_retry_budget_ms(retry: Retry, attempt_ms: int) -> int:
    """Worst case for a retried step: every attempt times out and every wait is taken."""
    return retry.max_attempts * attempt_ms + sum_backoff_ms(retry)


def format_ms(ms: int) -> str:
    """Milliseconds in the duration syntax users write: 91500 → ``1m31s500ms``."""
    if ms == 0:
        return "0s"
    parts = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def check_step_timing(
    workflow: Resource[WorkflowSpec],
    step: StepTiming,
    what: str,
    limit_ms: int | None,
    report: Report,
) -> None:
    """AF407 for a timeout or retry budget that overruns the workflow, AF408 for bad bounds."""
    doc = workflow.doc
    timeout_fits = True
    if step.timeout is not None and limit_ms is not None:
        timeout_ms = duration_ms(step.timeout)
        if timeout_ms > limit_ms:
            timeout_fits = False
            report.add(
                codes.TIMEOUT_EXCEEDS_WORKFLOW,
                workflow.file,
                doc.span((*step.path, "timeout")),
                f"timeout {step.timeout} of {what} is longer than the workflow timeout "
                f"{format_ms(limit_ms)}",
                hint="shorten the step timeout or raise spec.timeout",
            )
    if step.retry is None:
        return
    sane = _check_retry_bounds(workflow, step.path, step.retry, limit_ms, report)
    if not (sane and timeout_fits) or limit_ms is None:
        return  # the budget of an insane retry or an overlong attempt says nothing new
    attempt_ms = duration_ms(step.timeout) if step.timeout is not None else step.attempt_fallback_ms
    budget = compute_retry_budget_ms(step.retry, attempt_ms)
    if budget > limit_ms:
        report.add(
            codes.TIMEOUT_EXCEEDS_WORKFLOW,
            workflow.file,
            doc.key_span((*step.path, "retry")),
            f"{what} can take {format_ms(budget)} with retries, longer than the workflow "
            f"timeout {format_ms(limit_ms)}: {_explain_budget(step, step.retry, attempt_ms)}",
            hint="lower maxAttempts or the delays, shorten the step timeout, or raise spec.timeout",
        )


def _explain_budget(step: StepTiming, retry: Retry, attempt_ms: int) -> str:
    waits = f"{format_ms(sum_backoff_ms(retry))} of {retry.backoff} backoff"
    if attempt_ms == 0:
        return f"{waits} between {retry.max_attempts} attempts"
    source = "" if step.timeout is not None else " (the tool's timeout)"
    return f"{retry.max_attempts} attempts of {format_ms(attempt_ms)} each{source} plus {waits}"


def _check_retry_bounds(
    workflow: Resource[WorkflowSpec],
    step_path: YamlPath,
    retry: Retry,
    limit_ms: int | None,
    report: Report,
) -> bool:
    """AF408 for each bound that is not sane; returns whether all of them are."""
    doc, path = workflow.doc, (*step_path, "retry")
    sane = True
    if retry.max_attempts > MAX_ATTEMPTS:
        sane = False
        report.add(
            codes.BAD_RETRY,
            workflow.file,
            doc.span((*path, "maxAttempts")),
            f"maxAttempts {retry.max_attempts} is more than {MAX_ATTEMPTS}",
            hint="a step that needs this many attempts needs a different design",
        )
    initial = None if retry.initial_delay is None else duration_ms(retry.initial_delay)
    cap = None if retry.max_delay is None else duration_ms(retry.max_delay)
    if initial is not None and cap is not None and initial > cap:
        sane = False
        report.add(
            codes.BAD_RETRY,
            workflow.file,
            doc.span((*path, "initialDelay")),
            f"initialDelay {retry.initial_delay} is longer than maxDelay {retry.max_delay}",
            hint="the first wait must not exceed the cap on every wait",
        )
    if limit_ms is None:
        return sane
    for field, text, ms in (
        ("initialDelay", retry.initial_delay, initial),
        ("maxDelay", retry.max_delay, cap),
    ):
        if ms is not None and ms > limit_ms:
            sane = False
            report.add(
                codes.BAD_RETRY,
                workflow.file,
                doc.span((*path, field)),
                f"{field} {text} is longer than the workflow timeout {format_ms(limit_ms)}",
                hint="a single wait cannot outlast the whole workflow",
            )
    return sane
