"""Benchmark: `af build` cold, as a no-op rebuild, and after a one-file change.

All three against the cold build measured in the same run, so the ratios hold on any machine.
The target (issue 5): a no-op rebuild well under a tenth of a cold one. Run on demand:

    .venv/bin/python bench/build_bench.py [REPO] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _seconds(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo", nargs="?", default=str(ROOT / "examples" / "repo"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    cold, noop, one_file = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.runs):
            source = Path(scratch) / f"repo{run}"
            shutil.copytree(args.repo, source)
            out = Path(scratch) / f"dist{run}"
            command = [sys.executable, "-m", "agentflow.compiler", "build", str(source)]
            command += ["--out", str(out)]
            cold.append(_seconds(command, env))
            noop.append(_seconds(command, env))
            first = sorted((source / "tools").glob("*.yaml"))[0]
            first.write_text(first.read_text() + "# touched\n")
            one_file.append(_seconds(command, env))
    base = statistics.median(cold)
    print(f"af build {args.repo}, medians over {args.runs} runs")
    print(f"cold build:             {base * 1000:6.0f} ms  (baseline, 1.00x)")
    for label, samples in (("no-op rebuild:", noop), ("one file changed:", one_file)):
        median = statistics.median(samples)
        print(f"{label:23} {median * 1000:6.0f} ms  ({median / base:.2f}x of cold)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
