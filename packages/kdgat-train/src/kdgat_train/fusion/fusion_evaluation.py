"""Evaluate the fusion stage: the DQN's fused score, the MLP comparator and the best fixed alpha.

Every method's threshold is chosen on validation by the one rule ``evaluation.threshold`` (with its
fallback to normal windows) and reused unchanged on each test scenario.
The DQN's results go to ``metrics.json`` and ``scores.parquet`` (as for every stage); the
comparators to ``comparators.json``; all of them to run.json and MLflow as ``mlp/...`` and
``fixed_alpha/...``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from kdgat_schemas import atomic_write
from scipy.stats import spearmanr

from kdgat_train.evaluation.stage_evaluation import (
    Evaluation,
    evaluated_splits,
    model_stats,
    pick_threshold,
    report,
    write_report,
)
from kdgat_train.fusion.comparators import best_fixed_alpha, fixed_alpha_scores, mlp_scores, train_mlp_fusion
from kdgat_train.fusion.inputs import ANOMALY_COLUMN, raw_fusion_outputs


def _training_normals(data, score_of):
    """A callable giving ``score_of(inputs)`` on the normal training windows (the threshold fallback)."""

    def normals() -> np.ndarray:
        train = data.inputs("train")
        return np.asarray(score_of(train))[train.y.numpy() == 0]

    return normals


def evaluate_fusion(module, data, run_dir: Path, training, evaluation) -> Evaluation:
    """Results ``{split: DQN metrics, "model": ..., "mlp/<split>": ..., "fixed_alpha/<split>": ..., "fixed_alpha": {"alpha"}}``.

    Args:
        module: the trained `FusionModule`. data: its `FusionDataModule` (frozen VGAE and GAT set).
        training: `TrainingSettings` (the MLP comparator uses its epochs, learning rate, batch size, seed).
        evaluation: `EvaluationSettings` (the threshold rule of every method).
    """
    cache = data.prepare()
    splits = evaluated_splits(cache)
    inputs = {name: data.inputs(name) for name in splits}
    labels = {name: inputs[name].y.numpy() for name in splits}

    def dqn_scores(split_inputs):
        return module.fused_scores(*split_inputs.tensors()[:3]).numpy()

    scores = {name: dqn_scores(inputs[name]) for name in splits}
    chosen = pick_threshold(scores, labels, evaluation, _training_normals(data, dqn_scores))
    results = report(scores, labels, chosen.value, cache)
    for name in results:
        alpha = module.agent.alpha(module.agent.act(inputs[name].state.to(module.device), explore=False)).float()
        results[name]["mean_alpha"] = float(alpha.mean())
        # windows fused from one input alone: alpha 1 reads the GAT only, alpha 0 the VGAE only
        results[name]["gat_only_share"] = float((alpha >= 1 - 1e-6).float().mean())
        results[name]["vgae_only_share"] = float((alpha <= 1e-6).float().mean())
        # how closely the fused score orders the windows as one input alone does (Spearman): 1 = a copy of it
        _, anomaly, p_attack = inputs[name].tensors()[:3]
        results[name]["gat_rank_agreement"] = _rank_agreement(scores[name], p_attack.numpy())
        results[name]["vgae_rank_agreement"] = _rank_agreement(scores[name], anomaly.numpy())
    files = write_report(results, scores, labels, run_dir, chosen, cache)

    started = time.perf_counter()  # speed of the whole fused detector: VGAE + GAT + DQN from the graphs
    state, raw, p_attack, _ = raw_fusion_outputs(data.vgae, data.gat, cache.split("val"), cache.manifest.window,
                                              data.evaluation_batch_size)
    anomaly = data.normaliser()(raw)
    state[:, ANOMALY_COLUMN] = anomaly
    module.fused_scores(state, anomaly, p_attack)
    stats = model_stats([data.vgae, data.gat, module.net], len(raw), time.perf_counter() - started)

    mlp = train_mlp_fusion(data.inputs("train"), training.epochs, training.learning_rate, training.batch_size,
                           training.seed, data.class_weights())
    mlp_by_split = {name: mlp_scores(mlp, inputs[name]) for name in splits}
    mlp_threshold = pick_threshold(mlp_by_split, labels, evaluation, _training_normals(data, lambda i: mlp_scores(mlp, i)))
    mlp_results = report(mlp_by_split, labels, mlp_threshold.value, cache)
    alpha = best_fixed_alpha(inputs["val"], evaluation, training.fusion.alpha_grid, data.inputs("train"))
    fixed_by_split = {name: fixed_alpha_scores(alpha, inputs[name]) for name in splits}
    fixed_threshold = pick_threshold(fixed_by_split, labels, evaluation,
                                     _training_normals(data, lambda i: fixed_alpha_scores(alpha, i)))
    fixed_results = report(fixed_by_split, labels, fixed_threshold.value, cache)
    comparators = {"mlp": {**mlp_results, "threshold_rule": mlp_threshold.as_dict()},
                   "fixed_alpha": {"alpha": alpha, **fixed_results, "threshold_rule": fixed_threshold.as_dict()}}
    atomic_write(run_dir / "comparators.json", json.dumps(comparators, indent=2) + "\n")
    results = {
        **results, "model": stats,
        **{f"mlp/{name}": metrics for name, metrics in mlp_results.items()},
        **{f"fixed_alpha/{name}": metrics for name, metrics in fixed_results.items()},
        "fixed_alpha": {"alpha": alpha},
    }
    tags = {**chosen.tags(), **mlp_threshold.tags("mlp/"), **fixed_threshold.tags("fixed_alpha/")}
    return Evaluation(results, tags, [*files, run_dir / "comparators.json"])


def _rank_agreement(fused: np.ndarray, single: np.ndarray) -> float:
    """Spearman's rank correlation of the fused scores with one input's (NaN when either is constant)."""
    if len(fused) < 2 or np.ptp(fused) == 0 or np.ptp(single) == 0:
        return float("nan")
    return float(spearmanr(fused, single).statistic)


__all__ = ["evaluate_fusion"]
