"""Golden files: compare generated text with `tests/golden/<case>/expected/`, byte for byte.

`pytest --update-golden` rewrites them instead (refused when `CI` is set; tests/conftest.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def check_golden(expected_dir: Path, actual: Mapping[str, str], *, update: bool, test: str) -> None:
    """``actual`` (relative path → text) must be exactly the files below ``expected_dir``."""
    if update:
        expected_dir.mkdir(parents=True, exist_ok=True)
        for stale in sorted(expected_dir.rglob("*"), reverse=True):
            relative = stale.relative_to(expected_dir).as_posix()
            if stale.is_file() and relative not in actual:
                stale.unlink()
            elif stale.is_dir() and not any(stale.iterdir()):
                stale.rmdir()
        for name, text in actual.items():
            (expected_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / name).write_bytes(text.encode("utf-8"))
        return
    on_disk = {
        p.relative_to(expected_dir).as_posix(): p.read_bytes().decode("utf-8")
        for p in sorted(expected_dir.rglob("*"))
        if p.is_file()
    }
    problems = []
    for name in sorted(on_disk.keys() | actual.keys()):
        want, got = on_disk.get(name), actual.get(name)
        if want == got:
            continue
        if want is None:
            problems.append(f"{name}: produced but not in {expected_dir}")
        elif got is None:
            problems.append(f"{name}: expected but not produced")
        else:
            diff = difflib.unified_diff(
                want.splitlines(keepends=True),
                got.splitlines(keepends=True),
                f"expected/{name}",
                f"actual/{name}",
            )
            problems.append("".join(diff))
    if problems:
        rel = expected_dir.relative_to(GOLDEN.parent.parent)
        raise AssertionError(
            f"{rel} differs from the output:\n"
            + "\n".join(problems)
            + f"\nif the change is intended: .venv/bin/python -m pytest {test} --update-golden"
        )
