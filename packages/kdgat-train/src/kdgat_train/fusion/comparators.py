"""The DQN's simple comparators (DESIGN.md §3): an MLP on the same state, and the best fixed alpha.

Both are fitted on the training split / chosen on validation only, then reported on every test
scenario with the same threshold rule as the DQN (``evaluation.threshold`` on validation).
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from kdgat_models.fusion import MLPFusion, fused_score
from kdgat_models.score_functions import attack_probability
from torch.utils.data import DataLoader, TensorDataset

from kdgat_train.evaluation.metrics import binary_metrics
from kdgat_train.evaluation.threshold_rule import choose_threshold
from kdgat_train.fusion.inputs import FusionInputs
from kdgat_train.fusion.mlp_fusion_module import MLPFusionModule


def train_mlp_fusion(train: FusionInputs, epochs: int, learning_rate: float, batch_size: int, seed: int,
                     class_weights: torch.Tensor) -> MLPFusion:
    """An `MLPFusion` fitted with class-weighted cross-entropy on the training split's states, by a
    Lightning Trainer (`MLPFusionModule`), the batches drawn in a seeded order each epoch."""
    torch.manual_seed(seed)
    mlp = MLPFusion(state_dim=train.state.size(1))
    mlp.register_buffer("state_mean", train.state.mean(0))
    mlp.register_buffer("state_std", train.state.std(0).clamp_min(1e-6))
    batches = DataLoader(TensorDataset(train.state, train.y), batch_size=batch_size, shuffle=True,
                         generator=torch.Generator().manual_seed(seed))
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(MLPFusionModule(mlp=mlp, learning_rate=learning_rate, class_weights=class_weights), batches)
    return mlp.eval()


@torch.no_grad()
def mlp_scores(mlp: MLPFusion, inputs: FusionInputs) -> np.ndarray:
    """P(attack) per window (G,)."""
    return attack_probability(mlp((inputs.state - mlp.state_mean) / mlp.state_std)).numpy()


def fixed_alpha_scores(alpha: float, inputs: FusionInputs) -> np.ndarray:
    return fused_score(torch.tensor(alpha), inputs.anomaly, inputs.p_attack).numpy()


def best_fixed_alpha(val: FusionInputs, evaluation, grid: int = 21, train: FusionInputs | None = None) -> float:
    """The alpha of ``grid`` values evenly spaced in [0, 1] (21: 0, 0.05, ..., 1; the DQN's actions)
    whose fused score has the best validation F1 at the threshold ``evaluation`` (`EvaluationSettings`) gives it;
    ``train``: the training inputs whose normal windows the threshold falls back on when validation has
    too few (as every other threshold of the stage does)."""
    labels = val.y.numpy()
    best_alpha, best_f1 = 0.0, -1.0
    for alpha in np.linspace(0.0, 1.0, grid):
        scores = fixed_alpha_scores(float(alpha), val)
        normals = None if train is None else (
            lambda alpha=float(alpha): fixed_alpha_scores(alpha, train)[train.y.numpy() == 0])
        threshold = choose_threshold(scores, labels, evaluation.threshold, min_class_windows=evaluation.min_class_windows,
                                     training_normal_scores=normals)
        f1 = binary_metrics(scores, labels, threshold.value)["f1"]
        if f1 > best_f1 + 1e-12:
            best_alpha, best_f1 = float(alpha), f1
    return best_alpha
