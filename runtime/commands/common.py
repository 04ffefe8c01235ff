"""What the runtime's verbs share: the embedded runtime of a repository, compiled bundles and
scenarios, and how a step is printed as it happens."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from agentflow.bundle.manifest import BundleReadError
from agentflow.bundle.scenario import Scenario, ScenarioFormatError, scenarios_from_json
from agentflow.runtime.cli import UsageError
from agentflow.runtime.compile import Compiled, CompileFailed, compile_repository
from agentflow.runtime.embedded import data_dir
from agentflow.runtime.worker import StepReport


def repository(path: str) -> Path:
    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"{path}: not a directory")
    return root


def compiled(root: Path, *, environment: str | None, scenarios: bool) -> Compiled | int:
    """The repository's bundle (and scenarios), or the exit code after the compiler refused."""
    try:
        return compile_repository(
            root, data_dir(root) / "builds", environment=environment, scenarios=scenarios
        )
    except CompileFailed as failure:
        print(failure.output, file=sys.stderr)
        return failure.exit_code


def read_scenarios(compiled: Compiled) -> tuple[Scenario, ...]:
    assert compiled.scenarios is not None
    try:
        digest, scenarios = scenarios_from_json(json.loads(compiled.scenarios.read_text("utf-8")))
    except (OSError, ValueError, ScenarioFormatError) as error:
        raise UsageError(f"cannot read the compiled scenarios: {error}") from None
    if digest != compiled.digest:
        raise UsageError("the compiled scenarios belong to another bundle; build again")
    return scenarios


def archive_bytes(path: Path) -> bytes:
    """A built bundle as the runtime stores it: its archive (a folder is archived in memory)."""
    if path.is_file():
        return path.read_bytes()
    if path.is_dir():
        import tempfile

        from agentflow.bundle.archive import write_archive

        with tempfile.TemporaryDirectory() as scratch:
            return write_archive(path, Path(scratch) / "bundle.tar.gz", mtime=0).read_bytes()
    raise BundleReadError(f"{path}: no such bundle")


def parse_input(text: str | None, file: str | None, default: Any) -> Any:
    if file is not None:
        try:
            text = Path(file).read_text("utf-8")
        except OSError as error:
            raise UsageError(f"--input-file {file}: {error.strerror}") from None
    if text is None:
        return default
    try:
        return json.loads(text)
    except ValueError as error:
        raise UsageError(f"the input is not JSON: {error}") from None


def step_line(report: StepReport) -> str:
    """``state  agent/tool  status  duration  → next`` (SPEC §4)."""
    step = report.step
    if step.agent is None:  # an approval state: a person decided
        who = "approval"
    else:
        who = step.agent if step.tool is None else f"{step.agent}/{step.tool}"
    took = f"{step.ended_at - step.started_at}ms"
    if report.next:
        after = "→ " + ", ".join(report.next)
    elif report.retry_at is not None:
        after = f"→ retry in {report.retry_at - step.ended_at}ms"
    else:
        after = f"→ {report.status}"
    status = step.status if step.error is None else f"{step.status}: {step.error}"
    return f"{step.name}  {who}  {status}  {took}  {after}"
