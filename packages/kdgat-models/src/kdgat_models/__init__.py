"""kdgat-models: GAT, VGAE, graph-less MLP and DQN-fusion networks and their losses, reusable with torch + PyG only."""

from importlib import import_module

# where each public name lives: imported on first use (PEP 562), so the package's CLI and its submodules
# do not pay for torch + PyG (and PyG's import-time notices) before they need them
_EXPORTS = {
    "VGAEDistillationLoss": "kdgat_models.distillation", "logit_distillation_loss": "kdgat_models.distillation",
    "DQNFusionAgent": "kdgat_models.fusion", "EpsilonSchedule": "kdgat_models.fusion", "MLPFusion": "kdgat_models.fusion",
    "QNetwork": "kdgat_models.fusion", "GATOutput": "kdgat_models.gat", "GATWithJK": "kdgat_models.gat",
    "GraphAutoencoderNeighborhood": "kdgat_models.vgae", "VGAEOutput": "kdgat_models.vgae",
    "anomaly_score": "kdgat_models.vgae", "batch_graph_errors": "kdgat_models.vgae",
    "graph_anomaly_scores": "kdgat_models.vgae", "vgae_loss": "kdgat_models.vgae",
    "WindowMLP": "kdgat_models.window_mlp", "WindowMLPOutput": "kdgat_models.window_mlp",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kdgat_models' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
