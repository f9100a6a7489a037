"""Build the network of a run from its settings and the dataset's vocabulary size."""

from __future__ import annotations

from kdgat_models import GATWithJK, GraphAutoencoderNeighborhood

from kdgat_train.config.run_settings import RunSettings

NETWORKS = {"gat": GATWithJK, "vgae": GraphAutoencoderNeighborhood}


def build_network(settings: RunSettings, num_ids: int):
    """The model of ``settings.name.model`` with the run's size settings (self-loops come from the data)."""
    family = settings.name.model
    if family not in NETWORKS:
        raise NotImplementedError(f"stage for model {family!r} is not implemented yet")
    return NETWORKS[family](num_ids=num_ids, add_self_loops=False, **settings.model_size().model_dump())
