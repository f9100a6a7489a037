"""`kdgat-runs matrix`: the train x test generalisation table (unknown vehicle, unknown attack).

For each training dataset, the COMPLETED pipeline runs of that dataset (the latest per seed) give the
rows (each model x variant with its own run folder, and each baseline). Each row's run of each seed
is scored on each test dataset: on its own dataset its recorded test metrics, on another one
`cross_dataset.evaluate_on_dataset` (own vocabulary, normalisation and validation threshold; a
result already under ``RUN_DIR/cross/<dataset>/`` is reused). A cell is the mean over the test
scenarios per seed, then the mean and 95 % interval over seeds (`seed_report.interval`).

Written: matrix.md, matrix.csv (one line per row x train x test x metric, with the run folders),
matrix.tex (F1, booktabs, escaped), matrix.json (every cell's per-seed values and run folders) and
one heat map per metric (matrix_f1.png, matrix_fpr.png, matrix_auroc.png).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from kdgat_schemas import ExperimentName, RunFolder, RunRecord, atomic_write

from kdgat_train.evaluation.cross_dataset import evaluate_on_dataset
from kdgat_train.figures import pyplot
from kdgat_train.pipeline.comparison import ALL_ATTACK, METRIC_LABELS, METRICS, defined_metrics
from kdgat_train.pipeline.seed_report import Interval, ReportError, collect, interval
from kdgat_train.pipeline.table_writer import csv_text, json_text, latex_table, markdown_table

MATRIX_METRICS = ("f1", "fpr", "auroc", "recall", "detection_delay_s_median", "false_alarms_per_hour")  # FPR beside
# F1: "flag everything" is not a detection; recall, delay and false alarms per hour: what an attack-only / normal-only
# test dataset defines
HEAT_MAP_METRICS = ("f1", "fpr", "auroc")


@dataclass
class MatrixCell:
    """One row x train x test cell: per seed the scenario-mean of each metric, and the run folders."""

    values: dict[str, list[float]] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    unk_share: list[float] = field(default_factory=list)

    def summary(self, metric: str) -> Interval | None:
        return interval(self.values.get(metric, []))


@dataclass
class CrossMatrix:
    train: list[str]
    test: list[str]
    rows: list[str]  # "model | variant"
    seeds: dict[str, list[int]]  # train dataset -> the seeds of its pipeline runs
    cells: dict[tuple[str, str, str], MatrixCell]  # (row, train, test)


def _scenario_mean(metrics: dict[str, float], metric: str, prefix: str = "test/") -> float:
    """The mean of ``metric`` over the test scenarios that define it (`comparison.defined_metrics`: no F1 from a
    normal-only scenario, no FPR from an attack-only one)."""
    values = []
    for key, value in metrics.items():
        if key.startswith(prefix) and key.endswith(f"/{metric}") and key.count("/") == 2 and math.isfinite(value):
            scenario = key[:-len(metric) - 1]
            counts = (metrics.get(f"{scenario}/attack_windows"), metrics.get(f"{scenario}/normal_windows"))
            # the table's metrics are defined by the scenario's classes; anything else (unk_share) always is
            if None in counts or metric not in METRICS or metric in defined_metrics(*map(int, counts)):
                values.append(value)
    return float(np.mean(values)) if values else math.nan


def _cross_results(run_dir: Path, dataset: str, force: bool, say) -> dict[str, float]:
    """``test/<scenario>/<metric>`` of ``run_dir`` scored on ``dataset`` (computed, or read back)."""
    saved = RunFolder(RunFolder(run_dir).cross_folder(dataset))
    if force or not saved.has_metrics():
        say(f"  scoring {run_dir} on {dataset}")
        evaluate_on_dataset(run_dir, dataset, say=lambda message: None)
    document = saved.read_metrics()
    return {f"{split}/{key}": float(value) for split, metrics in document.items() if split.startswith("test/")
            for key, value in metrics.items() if isinstance(value, int | float)}


def _pipeline_rows(folders: list[Path], wanted: list[str]) -> list[tuple[str, list[str]]]:
    """``(row key, run folder per seed)`` of the rows with their own run folder, filtered by ``wanted``
    (case-insensitive substrings of the key; every row when empty)."""
    report = collect(folders)
    chosen, seen = [], set()
    for row in report.rows:
        runs = row.runs.get(f"{report.scenarios[0]}/f1", []) if report.scenarios else []
        if row.model == ALL_ATTACK or not runs or not all(RunFolder(r).has_metrics() for r in runs):
            continue
        if runs[-1] in seen:  # a fusion run's comparators share its folder: only the DQN is re-scored
            continue
        seen.add(runs[-1])
        if wanted and not any(w.lower() in row.key.lower() for w in wanted):
            continue
        chosen.append((row.key, runs))
    return chosen


def build_matrix(pipelines: dict[str, list[Path]], test: list[str], wanted: list[str], *, force: bool = False,
                 say=print) -> CrossMatrix:
    """The matrix of ``pipelines`` (train dataset -> its pipeline run folders, one per seed) on ``test``."""
    cells: dict[tuple[str, str, str], MatrixCell] = {}
    rows: list[str] = []
    seeds = {}
    for train, folders in pipelines.items():
        seeds[train] = [RunRecord.read(folder).seed for folder in folders]
        selected = _pipeline_rows(folders, wanted)
        if not selected:
            raise ReportError(f"no row of the {train} pipeline matches --rows {' '.join(wanted)}")
        for key, runs in selected:
            rows += [key] if key not in rows else []
            for dataset in test:
                cell = cells.setdefault((key, train, dataset), MatrixCell())
                for run in runs:
                    run_dir = Path(run)
                    metrics = (RunRecord.read(run_dir).metrics if dataset == train
                               else _cross_results(run_dir, dataset, force, say))
                    for metric in MATRIX_METRICS:
                        cell.values.setdefault(metric, []).append(_scenario_mean(metrics, metric))
                    cell.unk_share.append(_scenario_mean(metrics, "unk_share") if dataset != train else math.nan)
                    cell.runs.append(str(run_dir))
    return CrossMatrix(list(pipelines), list(test), rows, seeds, cells)


def latest_pipelines(records, dataset_name: ExperimentName) -> list[Path]:
    """The latest COMPLETED pipeline run of ``dataset_name`` per seed (``records``: `RunRecord`s in folder order)."""
    latest: dict[int, Path] = {}
    for record in records:
        if record.name == dataset_name.format() and record.status == "COMPLETED":
            latest[record.seed] = Path(record.run_dir)
    return [latest[seed] for seed in sorted(latest)]


def _text(cell: Interval | None) -> str:
    if cell is None:
        return "—"
    if cell.n < 2 or math.isnan(cell.low):
        return f"{cell.mean:.3f}"
    return f"{cell.mean:.3f} ± {(cell.high - cell.low) / 2:.3f}"


def to_markdown(matrix: CrossMatrix) -> str:
    seeds = "; ".join(f"{train}: seeds {', '.join(map(str, s))}" for train, s in matrix.seeds.items())
    lines = ["# Cross-dataset matrix (train x test)", "",
             f"Mean over the test scenarios per seed, then mean ± half the 95 % interval over seeds ({seeds}). "
             "Each run keeps its own vocabulary, normalisation and validation threshold; on its own dataset "
             "the cell is the run's own test result. UNK share: nodes of entities the training data never had. A metric is "
             "averaged over the scenarios that define it: a normal-only test dataset has FPR and false alarms per hour, "
             "an attack-only one recall and detection delay (its F1, FPR or AUROC cells are dashes).", ""]
    for metric in MATRIX_METRICS:
        lines += [f"## {METRIC_LABELS[metric]}", ""]
        rows = []
        for row in matrix.rows:
            for train in matrix.train:
                if (row, train, matrix.test[0]) not in matrix.cells:
                    continue
                texts = []
                for test in matrix.test:
                    cell = matrix.cells[(row, train, test)]
                    unk = [u for u in cell.unk_share if math.isfinite(u)]
                    suffix = f" (UNK {np.mean(unk):.0%})" if unk and metric == "f1" else ""
                    texts.append(_text(cell.summary(metric)) + suffix)
                rows.append([row, train, *texts])
        lines += [*markdown_table(["row", "trained on", *(f"on {t}" for t in matrix.test)], rows), ""]
    return "\n".join(lines)


def to_csv(matrix: CrossMatrix) -> str:
    rows = []
    for (row, train, test), cell in matrix.cells.items():
        unk = [u for u in cell.unk_share if math.isfinite(u)]
        for metric in MATRIX_METRICS:
            summary = cell.summary(metric)
            rows.append([row, train, test, metric, *(("", "", "", 0, "none") if summary is None else
                                                    (summary.mean, summary.low, summary.high, summary.n, summary.method)),
                         np.mean(unk) if unk else "", ";".join(cell.runs)])
    return csv_text(["row", "train", "test", "metric", "mean", "low", "high", "seeds", "interval", "unk_share", "runs"], rows)


def to_latex(matrix: CrossMatrix) -> str:
    rows = [[row, train, *(_text(matrix.cells[(row, train, t)].summary("f1")) for t in matrix.test)]
            for row in matrix.rows for train in matrix.train if (row, train, matrix.test[0]) in matrix.cells]
    return latex_table(["row", "trained on", *(f"on {t}" for t in matrix.test)], rows,
                       align="ll" + "c" * len(matrix.test))


def to_json(matrix: CrossMatrix) -> str:
    cells = [{"row": row, "train": train, "test": test, "runs": cell.runs, "values": cell.values,
              "unk_share": [u if math.isfinite(u) else None for u in cell.unk_share],
              **{f"{metric}_interval": (s.method if (s := cell.summary(metric)) else None) for metric in MATRIX_METRICS}}
             for (row, train, test), cell in matrix.cells.items()]
    return json_text({"train": matrix.train, "test": matrix.test, "seeds": matrix.seeds, "cells": cells})


def plot_heat_map(matrix: CrossMatrix, metric: str, path: Path) -> Path:
    plt = pyplot()
    labels = [(row, train) for row in matrix.rows for train in matrix.train if (row, train, matrix.test[0]) in matrix.cells]
    grid = np.array([[(s.mean if (s := matrix.cells[(row, train, test)].summary(metric)) else np.nan)
                      for test in matrix.test] for row, train in labels])
    figure, axis = plt.subplots(figsize=(2 + 1.6 * len(matrix.test), 1.2 + 0.4 * len(labels)))
    image = axis.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for i, (row, train) in enumerate(labels):
        for j, test in enumerate(matrix.test):
            text = _text(matrix.cells[(row, train, test)].summary(metric))
            axis.text(j, i, text, ha="center", va="center", fontsize=7,
                      color="white" if not np.isfinite(grid[i, j]) or grid[i, j] < 0.5 else "black")
    axis.set_xticks(range(len(matrix.test)), [f"on {t}" for t in matrix.test])
    axis.set_yticks(range(len(labels)), [f"{row} ({train})" for row, train in labels], fontsize=7)
    axis.set_title(f"{metric.upper()}: trained on (rows) x tested on (columns)")
    figure.colorbar(image, ax=axis, fraction=0.04)
    figure.tight_layout()
    temporary = path.with_name(f".{path.name}.tmp")
    figure.savefig(temporary, format="png", dpi=120)
    plt.close(figure)
    temporary.replace(path)
    return path


def write_matrix(matrix: CrossMatrix, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = [atomic_write(folder / "matrix.md", to_markdown(matrix)), atomic_write(folder / "matrix.csv", to_csv(matrix)),
               atomic_write(folder / "matrix.tex", to_latex(matrix)), atomic_write(folder / "matrix.json", to_json(matrix))]
    return written + [plot_heat_map(matrix, metric, folder / f"matrix_{metric}.png") for metric in HEAT_MAP_METRICS]
