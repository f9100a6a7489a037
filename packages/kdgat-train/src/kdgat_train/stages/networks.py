"""Build the network of a run from its settings and the dataset's vocabulary size."""

from __future__ import annotations

from kdgat_models import GATWithJK, GraphAutoencoderNeighborhood
from kdgat_models.fusion import STATE_DIM, QNetwork

from kdgat_train.config.run_settings import RunSettings

NUM_ALPHAS = 21  # alpha in 0, 0.05, ..., 1 (DESIGN.md §3)


def build_network(settings: RunSettings, num_ids: int):
    """The model of ``settings.name.model`` with the run's size settings (self-loops come from the data)."""
    family, size = settings.name.model, settings.model_size().model_dump()
    if family == "gat":
        return GATWithJK(num_ids=num_ids, add_self_loops=False, **size)
    if family == "vgae":
        return GraphAutoencoderNeighborhood(num_ids=num_ids, add_self_loops=False, **size)
    return QNetwork(state_dim=STATE_DIM, num_actions=NUM_ALPHAS, **size)
