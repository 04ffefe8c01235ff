"""Did-you-mean hints, shared by every stage that reports an unknown name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or listing the few there are."""
    options = sorted(set(candidates))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if 0 < len(options) <= 8:
        return "expected one of: " + ", ".join(f"'{o}'" for o in options)
    return None
