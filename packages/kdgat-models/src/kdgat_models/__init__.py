"""kdgat-models: GAT, VGAE and DQN-fusion networks and their losses, reusable with torch + PyG only."""

from kdgat_models.distillation import VGAEDistillationLoss, logit_distillation_loss
from kdgat_models.fusion import DQNFusionAgent, EpsilonSchedule, MLPFusion, QNetwork
from kdgat_models.gat import GATOutput, GATWithJK
from kdgat_models.vgae import (
    GraphAutoencoderNeighborhood,
    VGAEOutput,
    anomaly_score,
    batch_graph_errors,
    graph_anomaly_scores,
    vgae_loss,
)

__all__ = [
    "DQNFusionAgent",
    "EpsilonSchedule",
    "GATOutput",
    "GATWithJK",
    "GraphAutoencoderNeighborhood",
    "MLPFusion",
    "QNetwork",
    "VGAEDistillationLoss",
    "VGAEOutput",
    "anomaly_score",
    "batch_graph_errors",
    "graph_anomaly_scores",
    "logit_distillation_loss",
    "vgae_loss",
]
