"""Evaluate the fusion stage: the DQN's fused score, the MLP comparator and the best fixed alpha.

Every method's threshold is chosen on validation by ``training_config.fusion_threshold`` (best F1 by
default, or Youden's J) and reused unchanged on each test scenario.
The DQN's results go to ``metrics.json`` (as for every stage); the comparators to
``comparators.json``; all of them to run.json and MLflow as ``mlp/...`` and ``fixed_alpha/...``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from kdgat_schemas import atomic_write

from kdgat_train.evaluation.stage_evaluation import (
    choose_threshold,
    evaluated_splits,
    model_stats,
    report,
    write_report,
)
from kdgat_train.fusion.comparators import best_fixed_alpha, fixed_alpha_scores, mlp_scores, train_mlp_fusion
from kdgat_train.fusion.inputs import ANOMALY_COLUMN, raw_fusion_outputs


def evaluate_fusion(module, data, run_dir: Path, training) -> dict[str, dict[str, float]]:
    """``{split: DQN metrics, "model": ..., "mlp/<split>": ..., "fixed_alpha/<split>": ..., "fixed_alpha": {"alpha"}}``.

    Args:
        module: the trained `FusionModule`. data: its `FusionDataModule` (frozen VGAE and GAT set).
        training: `TrainingSettings` (the MLP comparator uses its epochs, learning rate, batch size, seed).
    """
    splits = evaluated_splits(data.prepare())
    rule = training.fusion_threshold
    inputs = {name: data.inputs(name) for name in splits}
    labels = {name: inputs[name].y.numpy() for name in splits}
    scores = {name: module.fused_scores(*inputs[name].tensors()[:3]).numpy() for name in splits}
    results = report(scores, labels, choose_threshold(scores["val"], labels["val"], rule))
    for name in results:
        alpha = module.agent.alpha(module.agent.act(inputs[name].state.to(module.device), explore=False))
        results[name]["mean_alpha"] = float(alpha.float().mean())
    write_report(results, scores, labels, run_dir)

    started = time.perf_counter()  # speed of the whole fused detector: VGAE + GAT + DQN from the graphs
    state, raw, p_attack, _ = raw_fusion_outputs(data.vgae, data.gat, data.prepare().split("val"),
                                             data.evaluation_batch_size)
    anomaly = data.normaliser()(raw)
    state[:, ANOMALY_COLUMN] = anomaly
    module.fused_scores(state, anomaly, p_attack)
    stats = model_stats([data.vgae, data.gat, module.net], len(raw), time.perf_counter() - started)

    mlp = train_mlp_fusion(data.inputs("train"), training.epochs, training.learning_rate, training.batch_size,
                           training.seed, data.class_weights())
    mlp_by_split = {name: mlp_scores(mlp, inputs[name]) for name in splits}
    mlp_results = report(mlp_by_split, labels, choose_threshold(mlp_by_split["val"], labels["val"], rule))
    alpha = best_fixed_alpha(inputs["val"], rule, training.fusion_alpha_grid)
    fixed_by_split = {name: fixed_alpha_scores(alpha, inputs[name]) for name in splits}
    fixed_results = report(fixed_by_split, labels, choose_threshold(fixed_by_split["val"], labels["val"], rule))
    comparators = {"mlp": mlp_results, "fixed_alpha": {"alpha": alpha, **fixed_results}}
    atomic_write(run_dir / "comparators.json", json.dumps(comparators, indent=2) + "\n")
    return {
        **results, "model": stats,
        **{f"mlp/{name}": metrics for name, metrics in mlp_results.items()},
        **{f"fixed_alpha/{name}": metrics for name, metrics in fixed_results.items()},
        "fixed_alpha": {"alpha": alpha},
    }


__all__ = ["evaluate_fusion"]
