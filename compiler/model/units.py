"""Durations and Kubernetes quantities as numbers. Inputs are already pattern-checked."""

from __future__ import annotations

import re
from decimal import Decimal

_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h)")
_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?")
_FACTOR = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def duration_ms(text: str) -> int:
    """``1h30m`` → 5400000."""
    return sum(int(n) * _MS[unit] for n, unit in _DURATION_PART.findall(text))


def quantity(text: str) -> Decimal:
    """``256Mi`` → 268435456, ``500m`` → 0.5."""
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise ValueError(f"not a quantity: {text!r}")
    return Decimal(match.group(1)) * _FACTOR[match.group(2)]
