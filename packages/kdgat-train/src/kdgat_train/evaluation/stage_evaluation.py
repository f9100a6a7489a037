"""Evaluate a trained stage on validation and on each test scenario separately.

Each family scores a window through its `WindowScorer` (`ModelFamily.scorer`: the GAT's P(attack), the
VGAE's feature + neighbourhood reconstruction error), the scorer that export and `kdgat-detect` run.
Every family
(and the fusion stage in kdgat_train.fusion.fusion_evaluation, and the baselines) gets its threshold
from validation by the one rule ``evaluation.threshold`` (`kdgat_train.evaluation.threshold_rule`),
reused unchanged on every test scenario; test labels are read only to report.
Writes ``metrics.json`` (per split, plus the threshold rule applied), ``scores.parquet`` (every
window's score and prediction) and ``evaluation.png`` (ROC and precision-recall curves, confusion
matrices) into the run folder, and measures parameters and inference windows/s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from kdgat_schemas import RunFolder, RunRecord

from kdgat_train.evaluation.event_metrics import event_metrics
from kdgat_train.evaluation.metrics import binary_metrics, roc_points
from kdgat_train.evaluation.threshold_rule import ChosenThreshold, choose_threshold
from kdgat_train.evaluation.window_scores_table import SCORES_FILE, window_rows, write_scores
from kdgat_train.figures import pyplot
from kdgat_train.window_scoring import window_scores

if TYPE_CHECKING:  # a family object is handed in; families build on this module
    from kdgat_train.families import ModelFamily


CONFUSION = ("true_negatives", "false_positives", "false_negatives", "true_positives")


@dataclass
class Evaluation:
    """What an evaluator hands the run: nested results, run tags and the files it wrote."""

    results: dict[str, dict[str, float]]
    tags: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def pick_threshold(scores: dict[str, np.ndarray], labels: dict[str, np.ndarray], evaluation,
                   training_normal_scores: Callable[[], np.ndarray] | None = None) -> ChosenThreshold:
    """The threshold of ``scores["val"]`` by the rule of ``evaluation`` (`EvaluationSettings`); only
    the validation entries (and, for the fallback, training normals) are read."""
    return choose_threshold(scores["val"], labels["val"], evaluation.threshold,
                            min_class_windows=evaluation.min_class_windows, training_normal_scores=training_normal_scores)


def report(scores: dict[str, np.ndarray], labels: dict[str, np.ndarray], threshold: float,
           cache=None) -> dict[str, dict[str, float]]:
    """``{split: binary_metrics (+ event metrics when the cache is given)}`` for every split that has windows."""
    results = {}
    for name in scores:
        if not len(labels[name]):
            continue
        results[name] = binary_metrics(scores[name], labels[name], threshold)
        if cache is not None:
            predicted = np.asarray(scores[name]) > threshold
            results[name] |= event_metrics(predicted, cache.split(name), cache.events(name))
    return results


def write_report(results: dict, scores: dict, labels: dict, run_dir: Path, chosen: ChosenThreshold,
                 cache=None) -> list[Path]:
    """``metrics.json`` (atomically), ``scores.parquet`` (with the cache) and ``evaluation.png``."""
    written = [RunFolder(run_dir).write_metrics({**results, "threshold_rule": chosen.as_dict()})]
    if cache is not None:
        rows = [window_rows(name, cache.split(name), cache.manifest, scores[name], chosen.value) for name in results]
        written.append(write_scores(run_dir / SCORES_FILE, rows))
    _plot(scores, labels, results, run_dir / "evaluation.png")
    return [*written, run_dir / "evaluation.png"]


def evaluated_splits(cache) -> list[str]:
    return ["val", *(name for name in cache.split_names if name.startswith("test/"))]


def evaluate_stage(module, cache, family: ModelFamily, run_dir: Path, evaluation, batch_size: int = 256) -> Evaluation:
    """Results ``{"val": metrics, "test/<scenario>": metrics, "model": size and speed}`` (also in
    ``run_dir/metrics.json``), the threshold tags and the files written. Speed = inference
    windows/s over the validation split."""
    splits = evaluated_splits(cache)
    scorer = family.scorer(module.net, window=cache.manifest.window)
    started = time.perf_counter()
    scores = {"val": window_scores(scorer, cache.split("val"), batch_size)}
    seconds = time.perf_counter() - started  # inference speed is measured on the validation split
    scores |= {name: window_scores(scorer, cache.split(name), batch_size) for name in splits if name != "val"}
    labels = {name: np.asarray(cache.split(name).y).astype(int) for name in splits}

    def training_normals() -> np.ndarray:
        train = cache.split("train")
        return window_scores(scorer, train, batch_size, indices=np.flatnonzero(np.asarray(train.y) == 0))

    chosen = pick_threshold(scores, labels, evaluation, training_normals)
    results = report(scores, labels, chosen.value, cache)
    files = write_report(results, scores, labels, run_dir, chosen, cache)
    return Evaluation({**results, "model": model_stats(module.net, len(scores["val"]), seconds)}, chosen.tags(), files)


def model_stats(net, windows: int, seconds: float) -> dict[str, float]:
    """Parameters of ``net`` (a module or a list of modules) and measured inference windows/s."""
    nets = net if isinstance(net, list | tuple) else [net]
    parameters = sum(p.numel() for n in nets for p in n.parameters())
    return {"parameters": float(parameters), "inference_windows_per_s": windows / seconds if seconds > 0 else float("nan")}


def _plot(scores: dict, labels: dict, results: dict, path: Path) -> None:
    plt = pyplot()
    title = plot_title(path.parent)
    figure, (roc_axis, pr_axis, matrix_axis) = plt.subplots(1, 3, figsize=(16, 5.5))
    figure.suptitle(title, fontsize=11)
    for name in scores:
        if not 0 < labels[name].sum() < len(labels[name]):
            continue
        fpr, tpr, _ = roc_points(scores[name], labels[name])
        roc_axis.plot(fpr, tpr, label=name)
        order = np.argsort(-scores[name], kind="stable")
        hits = np.cumsum(labels[name][order])
        pr_axis.plot(hits / labels[name].sum(), hits / np.arange(1, len(order) + 1), label=name)
    roc_axis.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC", xscale="log", xlim=(1e-4, 1))
    pr_axis.set(xlabel="recall", ylabel="precision", title="precision-recall")
    handles, names = roc_axis.get_legend_handles_labels()
    if handles:  # below the plots, never over the curves
        figure.legend(handles, names, loc="lower center", ncol=min(len(names), 6), fontsize=9, frameon=False)
    # the confusion matrix of every split at the validation-chosen threshold
    cells = [[name, *(f"{int(results[name][key])}" for key in CONFUSION)] for name in results]
    matrix_axis.axis("off")
    threshold = next(iter(results.values()))["threshold"] if results else float("nan")
    matrix_axis.set_title(f"confusion matrices (threshold {threshold:.4g})")
    if cells:
        table = matrix_axis.table(cellText=cells, colLabels=["split", "TN", "FP", "FN", "TP"], loc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(10)
        table.scale(1.0, 1.5)
    # fixed margins: tight_layout measured every text box and took half of this plot's time
    figure.subplots_adjust(left=0.05, right=0.99, bottom=0.2, top=0.86, wspace=0.22)
    figure.savefig(path, dpi=100, metadata={"Title": title})
    plt.close(figure)


def plot_title(run_dir: Path) -> str:
    """``{preset} run_NNN``: which run a plot belongs to, once it is copied out of its folder."""
    try:
        return f"{RunRecord.read(run_dir).name} {run_dir.name}"
    except (OSError, ValueError):
        return run_dir.name


def flat_metrics(results: dict[str, dict[str, float]]) -> dict[str, float]:
    """The metric grammar of run.json and MLflow: ``{split}/{metric}`` (``val/f1``, ``test/dos/f1``),
    comparators ``{comparator}/{split}/{metric}`` (``mlp/val/f1``), model size and speed ``model/...``."""
    flat = {}
    for split, metrics in results.items():
        flat.update({f"{split}/{key}": value for key, value in metrics.items() if np.isfinite(value)})
    return flat
