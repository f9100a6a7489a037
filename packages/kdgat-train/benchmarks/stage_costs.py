"""What each stage of a pipeline run cost, and the KD epoch ratio, from the run.json files it wrote.

    uv run python packages/kdgat-train/benchmarks/stage_costs.py [PIPELINE_RUN_DIR ...]

Without an argument: the latest pipeline run under ``experimentruns/automotive/synthetic/pipeline``
(the default main job's). Per stage: seconds of training per epoch (run.json ``train_s`` / ``epochs``:
data loading included, validation excluded), training windows/s, and the stage's wall time (build,
training, evaluation). Then, per family, a KD student's training seconds per epoch over the same
student's without KD (DESIGN.md target: <= 1.2). With several folders (the same pipeline run
several times), each figure is the median with its range. No torch is imported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

DEFAULT_ROOT = Path("experimentruns/automotive/synthetic/pipeline")


def stage_costs(pipeline_dir: Path) -> dict[str, dict[str, float]]:
    """``{stage key: {train_s_per_epoch, train_windows_per_s, stage_wall_s}}`` of one pipeline run."""
    costs = {}
    for stage in json.loads((pipeline_dir / "pipeline.json").read_text())["stages"]:
        record = json.loads((Path(stage["run_dir"]) / "run.json").read_text())
        timings = record.get("timings", {})
        epochs = timings.get("epochs") or float("nan")
        costs[stage["stage"]] = {
            "train_s_per_epoch": timings.get("train_s", float("nan")) / epochs,
            "train_windows_per_s": timings.get("train_windows_per_s", float("nan")),
            "stage_wall_s": timings.get("stage_wall_s", timings.get("fit_and_evaluate_s", float("nan"))),
            "distilled": "distillation_config.teacher_run" in (record.get("upstream_runs") or {}),
        }
    return costs


def kd_ratios(costs: dict[str, dict[str, float]]) -> dict[str, float]:
    """``{family: KD student's training s/epoch over the plain student's}`` for every family with both."""
    ratios = {}
    for key, values in costs.items():
        if key.endswith("_student_standard") and values["distilled"]:  # a KD DQN fuses KD students, is not one
            plain = costs.get(key.replace("_standard", "_no"))
            if plain and plain["train_s_per_epoch"] > 0:
                ratios[key.split("_")[0]] = values["train_s_per_epoch"] / plain["train_s_per_epoch"]
    return ratios


def _shown(values: list[float], digits: int = 2) -> str:
    values = [v for v in values if v == v]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipelines", nargs="*", type=Path, help="pipeline run folders (default: the latest main job's)")
    args = parser.parse_args(argv)
    folders = args.pipelines or sorted(DEFAULT_ROOT.glob("run_*"))[-1:]
    if not folders:
        print(f"no pipeline run under {DEFAULT_ROOT}: run `uv run kdgat-train` first, or name a folder", file=sys.stderr)
        return 2
    runs = [stage_costs(folder) for folder in folders]
    print(f"{len(runs)} pipeline run(s): {', '.join(map(str, folders))}\n")
    print("| stage | train s/epoch | train windows/s | stage wall s |\n|---|---|---|---|")
    for key in runs[0]:
        per_epoch, windows, wall = ([run[key][name] for run in runs if key in run]
                                    for name in ("train_s_per_epoch", "train_windows_per_s", "stage_wall_s"))
        print(f"| {key} | {_shown(per_epoch)} | {_shown(windows, 0)} | {_shown(wall, 1)} |")
    ratios = [kd_ratios(run) for run in runs]
    print("\nKD student epoch / the same student's epoch without KD (target <= 1.2):")
    for family in ratios[0]:
        print(f"  {family}: {_shown([r[family] for r in ratios if family in r])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
