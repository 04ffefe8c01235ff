"""Every fixture repo under tests/fixtures/cases reports exactly what its `# expect:` markers say.

Each case is a small repository; each marker names a code (and optionally a column) on the line
where the diagnostic must point. Unexpected diagnostics fail the case too, so a case proves both
that a check fires and that nothing else does. A case whose af.yaml holds a `# case-env: ENV`
line is validated as `af validate --env ENV`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import FIXTURES
from tests.expectations import collect_expectations, compare

CASES = sorted(p for p in (FIXTURES / "cases").iterdir() if p.is_dir())


_CASE_ENV = re.compile(r"^# case-env: (\S+)$", re.MULTILINE)


def diagnostics_for(repo: Path) -> list[dict[str, object]]:
    project = repo / "af.yaml"
    found = _CASE_ENV.search(project.read_text(encoding="utf-8")) if project.is_file() else None
    environment = found.group(1) if found else None
    report = validate_snapshot(read_folder(repo), environment=environment).report
    return [
        {"file": d.file, "line": d.line, "column": d.column, "code": d.code, "message": d.message}
        for d in report.diagnostics()
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_reports_exactly_its_expectations(case: Path) -> None:
    expected = collect_expectations(case)
    assert expected, f"{case.name} has no '# expect:' markers"
    problems = compare(expected, diagnostics_for(case))
    assert not problems, "\n".join(problems)
