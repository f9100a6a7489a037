"""Evaluate a trained stage on validation and on each test scenario separately.

GAT: score = P(attack), predicted attack when > 0.5. VGAE: score = feature + neighbourhood
reconstruction error, threshold = Youden's J on validation, reused unchanged on every test
scenario. Writes ``metrics.json`` and ``evaluation.png`` (ROC and precision-recall curves) into the
run folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from kdgat_data.batching import WindowBatches
from kdgat_models.self_loops import SelfLoops
from kdgat_models.vgae import graph_anomaly_scores

from kdgat_train.evaluation.metrics import binary_metrics, roc_points, youden_threshold


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
                errors = graph_anomaly_scores(module(batch), batch.x, batch.node_id, batch.edge_index, batch.batch,
                                              batch.num_graphs)
                scores.append((errors["features"] + errors["neighbourhood"]).float().cpu())
    return torch.cat(scores).numpy() if scores else np.zeros(0)


def evaluate_stage(module, cache, family: str, run_dir: Path) -> dict[str, dict[str, float]]:
    """``{"val": metrics, "test/<scenario>": metrics, ...}``; also written to ``run_dir/metrics.json``."""
    splits = ["val", *(name for name in cache.split_names if name.startswith("test/"))]
    scores = {name: window_scores(module, cache.split(name), family) for name in splits}
    labels = {name: np.asarray(cache.split(name).y).astype(int) for name in splits}
    if family == "gat":
        threshold = 0.5
    elif 0 < labels["val"].sum() < len(labels["val"]):
        threshold = youden_threshold(scores["val"], labels["val"])
    else:  # validation without attacks: flag anything above every normal validation window
        threshold = float(scores["val"].max())
    results = {name: binary_metrics(scores[name], labels[name], threshold) for name in splits if len(labels[name])}
    temporary = run_dir / ".metrics.json.tmp"
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(temporary, run_dir / "metrics.json")
    _plot(scores, labels, run_dir / "evaluation.png")
    return results


def _plot(scores: dict, labels: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (roc_axis, pr_axis) = plt.subplots(1, 2, figsize=(11, 4.5))
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
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def flat_metrics(results: dict[str, dict[str, float]]) -> dict[str, float]:
    """``{"eval/val/f1": ..., "test/dos/f1": ...}`` for run.json and MLflow."""
    flat = {}
    for split, metrics in results.items():
        prefix = "eval/val" if split == "val" else split
        flat.update({f"{prefix}/{key}": value for key, value in metrics.items() if np.isfinite(value)})
    return flat
