"""Inline expectations: `# expect: AF402` on the offending line of a fixture file.

Several codes may share a line (`# expect: AF203 AF104`); `AF402@7` also pins the column.
A family marker (`# expect: AF4xx`) matches any code of that family; it is for fixtures written
independently of the implementation, which know the contract's families but not our numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_MARKER = re.compile(r"#\s*expect:\s*((?:AF[0-9x]{3}(?:@\d+)?[\s,]*)+)")
_ITEM = re.compile(r"(AF[0-9x]{3})(?:@(\d+))?")


@dataclass(frozen=True, order=True)
class Expected:
    file: str
    line: int
    code: str
    column: int | None = None

    def matches(self, file: str, line: int, column: int, code: str) -> bool:
        if (file, line) != (self.file, self.line):
            return False
        if self.column is not None and column != self.column:
            return False
        if self.code.endswith("xx"):
            return code[:3] == self.code[:3]
        return code == self.code


def collect_expectations(repo: Path) -> list[Expected]:
    found = []
    for path in sorted(repo.rglob("*")):
        if not path.is_file() or path.suffix not in (".yaml", ".yml", ".j2"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        relative = path.relative_to(repo).as_posix()
        for number, line in enumerate(text.splitlines(), start=1):
            marker = _MARKER.search(line)
            if marker:
                for code, column in _ITEM.findall(marker.group(1)):
                    found.append(Expected(relative, number, code, int(column) if column else None))
    return found


def compare(expected: list[Expected], diagnostics: list[dict[str, object]]) -> list[str]:
    """Problems, as readable lines: expectations not met and diagnostics nobody expected."""
    problems = []
    unmatched = list(diagnostics)
    for item in expected:
        hit = next(
            (
                d
                for d in unmatched
                if item.matches(
                    str(d["file"]), int(str(d["line"])), int(str(d["column"])), str(d["code"])
                )
            ),
            None,
        )
        if hit is None:
            column = f":{item.column}" if item.column else ""
            problems.append(f"missing   {item.file}:{item.line}{column} {item.code}")
        else:
            unmatched.remove(hit)
            # A family marker may stand for several diagnostics on one line.
            if item.code.endswith("xx"):
                unmatched = [
                    d
                    for d in unmatched
                    if not item.matches(
                        str(d["file"]), int(str(d["line"])), int(str(d["column"])), str(d["code"])
                    )
                ]
    for d in unmatched:
        problems.append(
            f"unexpected {d['file']}:{d['line']}:{d['column']} {d['code']} {d['message']}"
        )
    return problems
