"""Workflow graphs (placeholder until the graph checks land)."""

from __future__ import annotations

from .diagnostics import Report
from .refs import Index


def check_workflows(index: Index, report: Report) -> None:
    del index, report
