"""DQN fusion of the VGAE anomaly score and the GAT attack probability, and its comparators."""

from kdgat_models.fusion.dqn_agent import DQNFusionAgent, EpsilonSchedule
from kdgat_models.fusion.mlp_fusion import MLPFusion
from kdgat_models.fusion.q_network import QNetwork
from kdgat_models.fusion.replay_buffer import ReplayBuffer
from kdgat_models.fusion.state import (
    STATE_DIM,
    STATE_FEATURES,
    fused_score,
    fusion_state,
    predict,
)
from kdgat_models.score_functions import attack_probability

__all__ = [
    "STATE_DIM",
    "STATE_FEATURES",
    "DQNFusionAgent",
    "EpsilonSchedule",
    "MLPFusion",
    "QNetwork",
    "ReplayBuffer",
    "attack_probability",
    "fused_score",
    "fusion_state",
    "predict",
]
