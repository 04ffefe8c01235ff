"""Retry policies, normalized once: the source's ``retry`` (or none) → the bundle's `RetryPlan`.

A step's plan and its agent's ExecProfile both carry a retry policy; both come from here, so
they fill the same defaults: one attempt when none is declared, ``exponential`` backoff, no
initial delay, no cap on the delay (``maxDelayMs`` null) and no jitter.
"""

from __future__ import annotations

import dataclasses

from agentflow.bundle.plan import NO_RETRY, RetryPlan
from agentflow.compiler.model.base import Retry
from agentflow.compiler.model.units import duration_ms


def normalize_retry(retry: Retry | None) -> RetryPlan:
    """``retry`` with every default filled in; `NO_RETRY` when there is none."""
    if retry is None:
        return NO_RETRY
    return RetryPlan(
        max_attempts=retry.max_attempts,
        backoff=retry.backoff,
        initial_delay_ms=duration_ms(retry.initial_delay) if retry.initial_delay else 0,
        max_delay_ms=duration_ms(retry.max_delay) if retry.max_delay else None,
        jitter=retry.jitter,
    )


def clamp_attempts(retry: RetryPlan, max_retries: int) -> RetryPlan:
    """``retry`` with at most ``max_retries`` retries after the first attempt."""
    if retry.max_attempts - 1 <= max_retries:
        return retry
    return dataclasses.replace(retry, max_attempts=max_retries + 1)
