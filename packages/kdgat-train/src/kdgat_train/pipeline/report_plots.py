"""The plots of `kdgat-runs report` (a `SeedReport`), each as PNG (to read) and PDF (for LaTeX).

- ``f1_vs_parameters``: mean F1 over the test scenarios against the parameter count (log x), one
  marker per model row with its 95 % interval over seeds as a whisker; the Pareto front (no other
  row has as few parameters and a higher F1) drawn as a line; baselines and the all-attack
  reference, which have no parameter count, as horizontal lines.
- ``f1_per_scenario``: per test scenario one bar per row (mean F1 over seeds) with interval whiskers.
- ``roc_pr``: per test scenario the ROC and precision-recall curves of every row that has its own
  per-window scores (``scores.parquet``: the models and baselines, not the fusion comparators),
  from the report's last seed.

Every value drawn comes from the report (and so from the run folders report.json names); nothing
is recomputed from checkpoints.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import precision_recall_curve, roc_curve

from kdgat_train.evaluation.window_scores_table import SCORES_FILE
from kdgat_train.figures import pyplot
from kdgat_train.pipeline.comparison import ALL_ATTACK
from kdgat_train.pipeline.seed_report import ReportRow, SeedReport, interval

PLOT_NAMES = ("f1_vs_parameters", "f1_per_scenario", "roc_pr")


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the ``(parameters, f1)`` points no other point dominates (as few or fewer
    parameters and an F1 as high or higher, better in one), ordered by parameters.

    Shapes: ``points`` is a list of N pairs; the result holds at most N indices.
    """
    front = []
    for index, (size, score) in enumerate(points):
        dominated = any(other_size <= size and other_score >= score and (other_size, other_score) != (size, score)
                        for other_size, other_score in points)
        if not dominated:
            front.append(index)
    return sorted(front, key=lambda index: points[index])


def mean_f1_per_seed(report: SeedReport, row: ReportRow) -> list[float]:
    """Per seed, the row's F1 averaged over the test scenarios where it is defined."""
    per_seed = []
    for seed_index in range(len(report.seeds)):
        values = [row.values[f"{s}/f1"][seed_index] for s in report.scenarios
                  if seed_index < len(row.values.get(f"{s}/f1", [])) and math.isfinite(row.values[f"{s}/f1"][seed_index])]
        per_seed.append(float(np.mean(values)) if values else math.nan)
    return per_seed


def _save(figure, folder: Path, stem: str, title: str) -> list[Path]:
    paths = []
    for suffix in ("png", "pdf"):
        path = folder / f"{stem}.{suffix}"
        temporary = path.with_name(f".{path.name}.tmp")
        figure.savefig(temporary, format=suffix, dpi=120, metadata={"Title": title})
        temporary.replace(path)  # a reader never sees half a plot
        paths.append(path)
    return paths


def _colour(plt, number: int):
    """Twenty distinguishable colours (a pipeline has about twenty rows)."""
    return plt.get_cmap("tab20")(number % 20)


def _marker(row: ReportRow) -> str:
    """The marker says the variant: teacher o, student s, student+KD ^, baseline D."""
    return {"teacher": "o", "student": "s", "student+KD": "^", "baseline": "D"}.get(row.variant, "x")


def _whisker(cell) -> tuple[float, float]:
    """``(below, above)`` the mean: the interval's extent, zero without one (one seed)."""
    if cell is None or cell.n < 2 or math.isnan(cell.low):
        return 0.0, 0.0
    return cell.mean - cell.low, cell.high - cell.mean


def plot_f1_vs_parameters(report: SeedReport, folder: Path) -> list[Path]:
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(11.5, 5.5))
    sized, unsized = [], []
    for row in report.rows:
        cell = interval(mean_f1_per_seed(report, row))
        if cell is None:
            continue
        (sized if row.parameters else unsized).append((row, cell))
    for number, (row, cell) in enumerate(sized):
        axis.errorbar([row.parameters], [cell.mean], yerr=[[v] for v in _whisker(cell)], fmt=_marker(row), capsize=3,
                      color=_colour(plt, number), label=row.key)
    front = pareto_front([(row.parameters, cell.mean) for row, cell in sized])
    if len(front) > 1:
        axis.plot([sized[i][0].parameters for i in front], [sized[i][1].mean for i in front], "k--", linewidth=1,
                  label="Pareto front", zorder=0)
    for number, (row, cell) in enumerate(unsized):
        style = ":" if row.model == ALL_ATTACK else "-."
        axis.axhline(cell.mean, linestyle=style, linewidth=1, color=_colour(plt, len(sized) + number), label=row.key)
    axis.set(xscale="log", xlabel="parameters", ylabel="mean F1 over test scenarios", ylim=(0, 1.02),
             title=f"{report.name}: F1 vs size ({_seed_words(report)})")
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # beside, never over, a point
    figure.tight_layout()
    paths = _save(figure, folder, "f1_vs_parameters", axis.get_title())
    plt.close(figure)
    return paths


def plot_f1_per_scenario(report: SeedReport, folder: Path) -> list[Path]:
    """One panel per test scenario, one horizontal bar per row (mean F1 over seeds, interval whiskers), the
    rows named once on the left: readable with twenty rows and six scenarios."""
    plt = pyplot()
    rows, scenarios = report.rows, report.scenarios
    panels = max(len(scenarios), 1)
    figure, axes = plt.subplots(1, panels, figsize=(2.4 * panels + 2.6, 0.28 * max(len(rows), 1) + 1.6), sharey=True,
                                squeeze=False)
    positions = np.arange(len(rows))[::-1]  # the first row on top
    for axis, scenario in zip(axes[0], scenarios, strict=False):
        cells = [report.cell(row, scenario, "f1") for row in rows]
        means = [c.mean if c is not None else 0.0 for c in cells]
        whiskers = np.array([_whisker(c) for c in cells]).T.reshape(2, -1)
        axis.barh(positions, means, xerr=whiskers, capsize=2, height=0.7,
                  color=[_colour(plt, number) for number in range(len(rows))],
                  hatch=None, edgecolor=["black" if row.model == ALL_ATTACK else "none" for row in rows])
        axis.set(xlim=(0, 1.05), title=scenario, xlabel="F1")
        axis.grid(axis="x", linewidth=0.3)
    axes[0][0].set_yticks(positions, [row.key for row in rows], fontsize=7)
    figure.suptitle(f"{report.name}: F1 per test scenario ({_seed_words(report)})")
    figure.tight_layout()
    paths = _save(figure, folder, "f1_per_scenario", figure._suptitle.get_text())
    plt.close(figure)
    return paths


def scored_rows(report: SeedReport) -> list[tuple[ReportRow, Path]]:
    """The rows with their own per-window scores in the last seed, with that run's folder: the first
    row of each run (a fusion run's comparators share its folder but not its scores.parquet)."""
    seen, rows = set(), []
    for row in report.rows:
        runs = row.runs.get(f"{report.scenarios[0]}/f1", []) if report.scenarios else []
        if row.model == ALL_ATTACK or not runs:
            continue
        run_dir = Path(runs[-1])
        if run_dir in seen or not (run_dir / SCORES_FILE).is_file():
            continue
        seen.add(run_dir)
        rows.append((row, run_dir))
    return rows


def plot_roc_pr(report: SeedReport, folder: Path) -> list[Path]:
    plt = pyplot()
    scenarios = report.scenarios or [""]
    figure, axes = plt.subplots(2, len(scenarios), figsize=(4.2 * len(scenarios), 8), squeeze=False)
    tables = {run_dir: pl.read_parquet(run_dir / SCORES_FILE, columns=["split", "label", "score"])
              for _, run_dir in scored_rows(report)}
    for column, scenario in enumerate(scenarios):
        roc_axis, pr_axis = axes[0][column], axes[1][column]
        for number, (row, run_dir) in enumerate(scored_rows(report)):
            windows = tables[run_dir].filter(pl.col("split") == f"test/{scenario}")
            labels, scores = windows["label"].to_numpy(), windows["score"].to_numpy()
            if not 0 < labels.sum() < len(labels):
                continue  # one class: no curve to draw
            fpr, tpr, _ = roc_curve(labels, scores)
            precision, recall, _ = precision_recall_curve(labels, scores)
            roc_axis.plot(fpr, tpr, linewidth=1, color=_colour(plt, number), label=row.key)
            pr_axis.plot(recall, precision, linewidth=1, color=_colour(plt, number), label=row.key)
        roc_axis.set(title=f"{scenario}: ROC", xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1))
        pr_axis.set(title=f"{scenario}: precision-recall", xlabel="recall", ylabel="precision", ylim=(0, 1.02))
    handles, names = axes[0][0].get_legend_handles_labels()
    title = f"{report.name}: seed {report.seeds[-1]} ({report.pipelines[-1]})"
    figure.suptitle(title, fontsize=10)
    if handles:
        figure.legend(handles, names, loc="lower center", ncol=min(len(names), 4), fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.07, 1, 0.96))
    paths = _save(figure, folder, "roc_pr", title)
    plt.close(figure)
    return paths


def _seed_words(report: SeedReport) -> str:
    n = len(report.seeds)
    return "one seed, no intervals" if n == 1 else f"{n} seeds, 95 % intervals"


def write_plots(report: SeedReport, folder: Path) -> list[Path]:
    """Every plot of the report as PNG and PDF in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [*plot_f1_vs_parameters(report, folder), *plot_f1_per_scenario(report, folder), *plot_roc_pr(report, folder)]
