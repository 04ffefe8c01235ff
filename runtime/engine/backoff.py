"""Retry delays: exponential, linear or constant backoff, capped, with deterministic jitter.

Jitter is "equal jitter" (half the delay fixed, half random) drawn from a hash of the run, the
step and the attempt, not from a random source: the same run replayed waits the same, and tests
need no seed.
"""

from __future__ import annotations

import hashlib

from agentflow.bundle.plan import RetryPlan


def retry_delay_ms(retry: RetryPlan, failed_attempt: int, run_id: str, seq: int) -> int:
    """How long to wait after attempt ``failed_attempt`` (1-based) of step ``seq`` failed."""
    initial = retry.initial_delay_ms
    if retry.backoff == "exponential":
        delay = initial * 2 ** (failed_attempt - 1)
    elif retry.backoff == "linear":
        delay = initial * failed_attempt
    else:
        delay = initial
    if retry.max_delay_ms is not None:
        delay = min(delay, retry.max_delay_ms)
    if retry.jitter and delay > 0:
        digest = hashlib.sha256(f"{run_id}:{seq}:{failed_attempt}".encode()).digest()
        fraction = int.from_bytes(digest[:8], "big") / 2**64
        delay = delay // 2 + int(fraction * (delay - delay // 2))
    return int(delay)
