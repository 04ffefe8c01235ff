"""Benchmark: `af validate` on the example repository, against a baseline run in the same session.

The baseline is a bare interpreter that reads and parses the same YAML files with PyYAML: the
floor any Python validator pays. Reports medians and the ratio; run on demand, not in CI:

    .venv/bin/python bench/validate_bench.py [REPO] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = (
    "import pathlib, sys, yaml\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.y*ml')):\n"
    "    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)\n"
)


def _median_seconds(command: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo", nargs="?", default=str(ROOT / "examples" / "repo"))
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    af = _median_seconds(
        [sys.executable, "-m", "agentflow.compiler", "validate", args.repo], args.runs
    )
    baseline = _median_seconds([sys.executable, "-c", BASELINE, args.repo], args.runs)
    print(f"af validate {args.repo}: median {af * 1000:.0f} ms over {args.runs} runs")
    print(f"baseline (interpreter + PyYAML parse of the same files): {baseline * 1000:.0f} ms")
    print(f"ratio af/baseline: {af / baseline:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
