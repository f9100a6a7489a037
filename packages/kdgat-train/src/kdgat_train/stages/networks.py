"""Build the network of a run from its settings and the dataset's vocabulary size."""

from __future__ import annotations

from kdgat_models import GATWithJK, GraphAutoencoderNeighborhood
from kdgat_models.fusion import STATE_DIM, QNetwork

from kdgat_train.config.run_settings import RunSettings

CAN_FEATURE_DIMS = (10, 11)  # continuous node features, edge features of CAN window graphs


def build_network(settings: RunSettings, num_ids: int, feature_dims: tuple[int, int] = CAN_FEATURE_DIMS):
    """The model of ``settings.name.model`` with the run's size settings (self-loops come from the data).

    Args:
        num_ids: the dataset's vocabulary size (with UNK). feature_dims: (node, edge) feature widths of
            the dataset's graphs, which differ between domains.
    """
    family, size = settings.name.model, settings.model_size().model_dump()
    in_channels, edge_dim = feature_dims
    if family == "gat":
        return GATWithJK(num_ids=num_ids, in_channels=in_channels, edge_dim=edge_dim, add_self_loops=False, **size)
    if family == "vgae":
        return GraphAutoencoderNeighborhood(num_ids=num_ids, in_channels=in_channels, edge_dim=edge_dim,
                                            add_self_loops=False, **size)
    # the DQN's actions: training_config.fusion.alpha_grid alphas evenly spaced in [0, 1] (21: 0, 0.05, ..., 1)
    return QNetwork(state_dim=STATE_DIM, num_actions=settings.training_config.fusion.alpha_grid, **size)
