"""Run one baseline as a stage: same windows, splits, threshold rule and evaluation as the graph
models, inside a `TrackedRun` (run folder, config.yaml, MLflow, run.json)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from kdgat_train.baselines.baseline_detectors import (
    READING_RESIDUAL_STATISTIC,
    BaselineDetector,
    BaselineNotApplicable,
)
from kdgat_train.baselines.baseline_methods import APPLICABLE
from kdgat_train.baselines.baseline_settings import BaselineSettings
from kdgat_train.evaluation.stage_evaluation import (
    Evaluation,
    evaluated_splits,
    flat_metrics,
    pick_threshold,
    report,
    write_report,
)
from kdgat_train.tracked_run import TrackedRun
from kdgat_train.window_data_module import open_cache


def check_applicable(settings: BaselineSettings, cache) -> None:
    """Raise `BaselineNotApplicable` (before any run folder exists) when the baseline cannot run here."""
    domains = APPLICABLE[settings.method]
    if domains is not None and settings.name.domain not in domains:
        raise BaselineNotApplicable(f"{settings.method} covers the {', '.join(domains)} domain only")
    if settings.method == "gbdt" and not 0 < cache.manifest.splits["train"].attack_windows < cache.manifest.splits["train"].windows:
        raise BaselineNotApplicable("gbdt needs attack and normal windows in the training split")


def evaluate_baseline(settings: BaselineSettings, cache, run_dir: Path) -> Evaluation:
    """Fit on the training windows, choose the threshold on validation, report every split."""
    train_stats, names = cache.window_statistics("train")
    train_y = np.asarray(cache.split("train").y).astype(int)
    detector = BaselineDetector(method=settings.method, names=names, seed=settings.training_config.seed)
    detector.fit(np.asarray(train_stats), train_y)
    if settings.method == "timing":  # the fitted per-ID inter-arrival mean and std, and the z scale
        detector.parameters = 2.0 * len(cache.manifest.vocabulary) + detector.parameters
    elif settings.method == "pca" and READING_RESIDUAL_STATISTIC in names:  # the axes, means and scales
        state = cache.fitted_state()
        detector.parameters = float(np.size(state["reading_components"]) + len(state["mean"]) + len(state["std"]))
    splits = evaluated_splits(cache)
    stats = {name: np.asarray(cache.window_statistics(name)[0]) for name in splits}
    started = time.perf_counter()
    scores = {"val": detector.score(stats["val"])}
    seconds = time.perf_counter() - started
    scores |= {name: detector.score(stats[name]) for name in splits if name != "val"}
    labels = {name: np.asarray(cache.split(name).y).astype(int) for name in splits}
    chosen = pick_threshold(scores, labels, settings.evaluation,
                            lambda: detector.score(np.asarray(train_stats)[train_y == 0]))
    results = report(scores, labels, chosen.value, cache)
    files = write_report(results, scores, labels, run_dir, chosen, cache)
    speed = len(scores["val"]) / seconds if seconds > 0 else float("nan")
    model = {"parameters": detector.parameters, "inference_windows_per_s": speed}
    return Evaluation({**results, "model": model}, chosen.tags(), files)


def run_baseline(settings: BaselineSettings) -> Path:
    """Fit and evaluate one baseline; returns its run folder (COMPLETED, or FAILED with the error)."""
    cache = open_cache(settings.dataset_config, settings.evaluation.min_class_windows)
    check_applicable(settings, cache)
    with TrackedRun(name=settings.name, settings=settings, runs_root=settings.runs_root,
                    seed=settings.training_config.seed, run_dir=settings.run_dir) as run:
        run.update(data_manifest_hash=cache.manifest.content_hash())
        started = time.perf_counter()
        evaluation = evaluate_baseline(settings, cache, run.run_dir)
        metrics = flat_metrics(evaluation.results)
        run.log_metrics(metrics)
        run.set_tags({**evaluation.tags, "baseline": settings.method})
        run.complete(metrics=metrics, timings={"fit_and_evaluate_s": time.perf_counter() - started},
                     artifacts=evaluation.files)
    return run.run_dir


__all__ = ["run_baseline"]
