"""Getting a bundle to run: compiled from the repository by `af build`, in a separate process.

The runtime never imports the compiler (import-linter proves it); where it needs a repository
compiled, it runs ``python -m agentflow.compiler build`` the way a user would and reads the
archive it writes (its text output: the digest and path, then the archive's path). A
repository with errors gives the compiler's diagnostics, shown as they are.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


class CompileFailed(Exception):
    """`af build` refused the repository (exit 1) or could not run (exit 2)."""

    def __init__(self, output: str, exit_code: int) -> None:
        super().__init__(output)
        self.output = output
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class Compiled:
    digest: str
    archive: Path
    scenarios: Path | None


def compile_repository(
    repository: Path, out: Path, *, environment: str | None = None, scenarios: bool = False
) -> Compiled:
    """``af build REPOSITORY --out OUT --archive`` (and ``--scenarios``), in a subprocess."""
    command = [
        sys.executable,
        "-m",
        "agentflow.compiler",
        "build",
        str(repository),
        "--out",
        str(out),
        "--archive",
    ]
    if environment is not None:
        command += ["--env", environment]
    scenarios_file = out / "scenarios.json" if scenarios else None
    if scenarios_file is not None:
        command += ["--scenarios", str(scenarios_file)]
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, env=dict(os.environ)
    )
    if done.returncode != 0:
        raise CompileFailed((done.stdout + done.stderr).rstrip("\n"), done.returncode)
    # SPEC §2: `af build` prints "DIGEST PATH", then "archive: PATH" with --archive
    lines = done.stdout.splitlines()
    digest = lines[0].split(" ", 1)[0]
    archive = next(line.split(": ", 1)[1] for line in lines if line.startswith("archive: "))
    return Compiled(digest, Path(archive), scenarios_file)
