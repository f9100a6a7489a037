"""The 15-value fusion state built from VGAE and GAT outputs, and the fused score.

State per graph (G, 15):
    VGAE (7): feature error, CAN-ID error, neighbourhood error, anomaly score, mean |mu|,
              mean sigma, mean KL
    GAT (8):  p_attack, p_normal, confidence max(p), entropy, logit margin (attack - normal),
              embedding L2 norm, embedding mean, embedding std
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

STATE_FEATURES = (
    "vgae_feature_error", "vgae_can_id_error", "vgae_neighbourhood_error", "vgae_anomaly_score",
    "vgae_mu_abs_mean", "vgae_sigma_mean", "vgae_kl_mean",
    "gat_p_attack", "gat_p_normal", "gat_confidence", "gat_entropy", "gat_logit_margin",
    "gat_embedding_norm", "gat_embedding_mean", "gat_embedding_std",
)
STATE_DIM = len(STATE_FEATURES)


def fusion_state(
    anomaly_scores: dict[str, Tensor],
    anomaly_score: Tensor,
    mu: Tensor,
    logvar: Tensor,
    batch: Tensor,
    num_graphs: int,
    gat_logits: Tensor,
    gat_embedding: Tensor,
) -> Tensor:
    """Build the (G, 15) state.

    Args:
        anomaly_scores: per-graph VGAE errors ``features``, ``can_id``, ``neighbourhood``, ``kl`` (G,).
        anomaly_score: the combined, normalised VGAE anomaly score in [0, 1] (G,).
        mu, logvar: (N, L) VGAE latents; batch: (N,) graph of each node.
        gat_logits: (G, 2) raw logits (never probabilities: they are softmaxed here, once).
        gat_embedding: (G, D) pooled GAT embedding.
    """
    probabilities = torch.softmax(gat_logits, dim=-1)  # (G, 2)
    entropy = -(probabilities * probabilities.clamp_min(1e-12).log()).sum(-1)
    vgae = [
        anomaly_scores["features"], anomaly_scores["can_id"], anomaly_scores["neighbourhood"], anomaly_score,
        scatter(mu.abs().mean(-1), batch, dim=0, dim_size=num_graphs, reduce="mean"),
        scatter(torch.exp(0.5 * logvar).mean(-1), batch, dim=0, dim_size=num_graphs, reduce="mean"),
        anomaly_scores["kl"],
    ]
    gat = [
        probabilities[:, 1], probabilities[:, 0], probabilities.max(-1).values, entropy,
        gat_logits[:, 1] - gat_logits[:, 0],
        gat_embedding.norm(dim=-1), gat_embedding.mean(-1), gat_embedding.std(-1, unbiased=False),
    ]
    return torch.stack(vgae + gat, dim=-1)  # (G, 15)


def fused_score(alpha: Tensor, anomaly_score: Tensor, p_attack: Tensor) -> Tensor:
    """``(1 - alpha) * anomaly + alpha * p_attack``, all (G,)."""
    return (1 - alpha) * anomaly_score + alpha * p_attack


def predict(score: Tensor, threshold: float) -> Tensor:
    """Attack (1) where the fused score exceeds the threshold chosen on validation. (G,) long."""
    return (score > threshold).long()
