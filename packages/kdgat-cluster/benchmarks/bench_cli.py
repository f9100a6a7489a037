"""Start-up time of ``kdgat-cluster --help`` (target: under 0.5 s) and of a dry-run pipeline.

    uv run python packages/kdgat-cluster/benchmarks/bench_cli.py [--repeats 10]

Runs the installed console script directly (not through ``uv run``), best and median of N.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _time(command: list[str], repeats: int) -> tuple[float, float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - started)
    return min(seconds), statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    script = shutil.which("kdgat-cluster") or str(Path(sys.executable).parent / "kdgat-cluster")
    for label, command in [("kdgat-cluster --help", [script, "--help"]),
                           ("kdgat-cluster pipeline synthetic --dry-run --profile local",
                            [script, "pipeline", "synthetic", "--dry-run", "--profile", "local"])]:
        best, median = _time(command, args.repeats)
        print(f"{label:<60} best {best:.3f} s   median {median:.3f} s   ({args.repeats} runs)")


if __name__ == "__main__":
    main()
