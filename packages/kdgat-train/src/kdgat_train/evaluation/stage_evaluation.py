"""Evaluate a trained stage on validation and on each test scenario separately.

GAT: score = P(attack), predicted attack when > 0.5. VGAE: score = feature + neighbourhood
reconstruction error, threshold = Youden's J on validation, reused unchanged on every test
scenario (the fusion stage, in kdgat_train.fusion.fusion_evaluation, uses the same rule on its fused score).
Writes ``metrics.json`` and ``evaluation.png`` (ROC and precision-recall curves, confusion
matrices) into the run folder, and measures parameters and inference windows/s.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from kdgat_data.batching import WindowBatches
from kdgat_models.self_loops import SelfLoops
from kdgat_models.vgae import anomaly_score, batch_graph_errors
from kdgat_schemas import atomic_write

from kdgat_train.evaluation.metrics import best_f1_threshold, binary_metrics, roc_points, youden_threshold


def window_scores(module, arrays, family: str, batch_size: int = 256) -> np.ndarray:
    """One attack score per window of ``arrays`` (eval mode, no gradients, on the module's device)."""
    module.eval()
    scores = []
    with torch.no_grad():
        for batch in WindowBatches(arrays, batch_size, transform=SelfLoops()):
            batch = batch.to(module.device)
            if family == "gat":
                scores.append(torch.softmax(module(batch).logits.float(), -1)[:, 1].cpu())
            else:
                scores.append(anomaly_score(batch_graph_errors(module(batch), batch)).float().cpu())
    return torch.cat(scores).numpy() if scores else np.zeros(0)


CONFUSION = ("true_negatives", "false_positives", "false_negatives", "true_positives")


def choose_threshold(val_scores: np.ndarray, val_labels: np.ndarray, rule: str = "youden") -> float:
    """Youden's J (or best F1, ``rule="f1"``) on validation; without attacks in validation, just
    above every normal window."""
    if 0 < val_labels.sum() < len(val_labels):
        return youden_threshold(val_scores, val_labels) if rule == "youden" else best_f1_threshold(val_scores, val_labels)
    return float(val_scores.max()) if len(val_scores) else 0.0


def report(scores: dict[str, np.ndarray], labels: dict[str, np.ndarray], threshold: float) -> dict[str, dict[str, float]]:
    """``{split: binary_metrics}`` for every split that has windows, at one threshold."""
    return {name: binary_metrics(scores[name], labels[name], threshold) for name in scores if len(labels[name])}


def write_report(results: dict, scores: dict, labels: dict, run_dir: Path) -> None:
    """``metrics.json`` (atomically) and ``evaluation.png`` in the run folder."""
    atomic_write(run_dir / "metrics.json", json.dumps(results, indent=2) + "\n")
    _plot(scores, labels, results, run_dir / "evaluation.png")


def evaluated_splits(cache) -> list[str]:
    return ["val", *(name for name in cache.split_names if name.startswith("test/"))]


def evaluate_stage(module, cache, family: str, run_dir: Path, batch_size: int = 256) -> dict[str, dict[str, float]]:
    """``{"val": metrics, "test/<scenario>": metrics, "model": size and speed}``; the splits are also
    written to ``run_dir/metrics.json``. Speed = inference windows/s over the validation split."""
    splits = evaluated_splits(cache)
    started = time.perf_counter()
    scores = {"val": window_scores(module, cache.split("val"), family, batch_size)}
    seconds = time.perf_counter() - started  # inference speed is measured on the validation split
    scores |= {name: window_scores(module, cache.split(name), family, batch_size) for name in splits if name != "val"}
    labels = {name: np.asarray(cache.split(name).y).astype(int) for name in splits}
    threshold = 0.5 if family == "gat" else choose_threshold(scores["val"], labels["val"])
    results = report(scores, labels, threshold)
    write_report(results, scores, labels, run_dir)
    return {**results, "model": model_stats(module.net, len(scores["val"]), seconds)}


def model_stats(net, windows: int, seconds: float) -> dict[str, float]:
    """Parameters of ``net`` (a module or a list of modules) and measured inference windows/s."""
    nets = net if isinstance(net, list | tuple) else [net]
    parameters = sum(p.numel() for n in nets for p in n.parameters())
    return {"parameters": float(parameters), "inference_windows_per_s": windows / seconds if seconds > 0 else float("nan")}


def _plot(scores: dict, labels: dict, results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (roc_axis, pr_axis, matrix_axis) = plt.subplots(1, 3, figsize=(16, 4.5))
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
    roc_axis.legend(fontsize=7)
    # the confusion matrix of every split at the validation-chosen threshold
    cells = [[name, *(f"{int(results[name][key])}" for key in CONFUSION)] for name in results]
    matrix_axis.axis("off")
    threshold = next(iter(results.values()))["threshold"] if results else float("nan")
    matrix_axis.set_title(f"confusion matrices (threshold {threshold:.4g})")
    if cells:
        table = matrix_axis.table(cellText=cells, colLabels=["split", "TN", "FP", "FN", "TP"], loc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def flat_metrics(results: dict[str, dict[str, float]]) -> dict[str, float]:
    """The metric grammar of run.json and MLflow: ``{split}/{metric}`` (``val/f1``, ``test/dos/f1``),
    comparators ``{comparator}/{split}/{metric}`` (``mlp/val/f1``), model size and speed ``model/...``."""
    flat = {}
    for split, metrics in results.items():
        flat.update({f"{split}/{key}": value for key, value in metrics.items() if np.isfinite(value)})
    return flat
