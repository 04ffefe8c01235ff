"""Logs: text for people, JSON lines for machines, each record with its run, step and trace.

The worker sets the run, the step and the trace a record belongs to in context variables while
it handles a message, so every log line from any layer below (tool callers, the model client)
carries them without being passed them. Every line goes through the redactor first: a secret's
value never reaches a log line, whoever logged it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

RUN: contextvars.ContextVar[str | None] = contextvars.ContextVar("af_run", default=None)
STEP: contextvars.ContextVar[str | None] = contextvars.ContextVar("af_step", default=None)
TRACE: contextvars.ContextVar[str | None] = contextvars.ContextVar("af_trace", default=None)


@contextmanager
def about(run: str, step: str | None = None, trace: str | None = None) -> Iterator[None]:
    """Log lines within the block belong to ``run`` (and ``step``, ``trace``)."""
    tokens = (RUN.set(run), STEP.set(step), TRACE.set(trace))
    try:
        yield
    finally:
        TRACE.reset(tokens[2])
        STEP.reset(tokens[1])
        RUN.reset(tokens[0])


class _Context(logging.Filter):
    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.af_run, record.af_step, record.af_trace = RUN.get(), STEP.get(), TRACE.get()
        record.msg, record.args = self._redact(record.getMessage()), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "run": getattr(record, "af_run", None),
            "step": getattr(record, "af_step", None),
            "trace": getattr(record, "af_trace", None),
        }
        return json.dumps({k: v for k, v in line.items() if v is not None}, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        where = " ".join(
            f"{name}={value}"
            for name, value in (
                ("run", getattr(record, "af_run", None)),
                ("step", getattr(record, "af_step", None)),
            )
            if value
        )
        return f"af: {record.levelname.lower()}: {record.getMessage()}" + (
            f" ({where})" if where else ""
        )


def configure(form: str, redact: Callable[[str], str], level: int = logging.WARNING) -> None:
    """Send the runtime's log records to stderr as ``form`` (``text`` or ``json``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Context(redact))
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    root = logging.getLogger("agentflow")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    for noisy in ("mcp", "httpx", "httpcore"):  # they log bodies at debug; keep them quiet
        logging.getLogger(noisy).setLevel(logging.WARNING)
