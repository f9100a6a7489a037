"""The graph-less MLP family: `kdgat_models.WindowMLP` over the mean and spread of each window's node
features and ID embeddings (no message passing), trained on labelled windows like the GAT and
distilled from the GAT teacher by the same temperature-scaled logits (GLNN). The cheapest
deployable student, and the control that says whether the graph earns its place."""

from __future__ import annotations

from kdgat_train.config.settings import MLPSize
from kdgat_train.families.gat_family import GATFamily


class MLPFamily(GATFamily):
    """Supervised graph-less classifier: the GAT's module, loss, KD and scoring, another network."""

    token = "mlp"
    label = "graph-less MLP"
    size_settings = MLPSize
    without_vocabulary = {"id_embedding_dim": 0}
    mode_fields = {}

    def build_network(self, settings, num_ids: int, feature_dims: tuple[int, int]):
        from kdgat_models import WindowMLP

        return WindowMLP(num_ids=num_ids, in_channels=feature_dims[0], **settings.model_size().model_dump())

    def scorer(self, net, *, window: int):
        """P(attack) per window (`kdgat_models.window_scorer.MLPWindowScorer`)."""
        from kdgat_models.window_scorer import MLPWindowScorer

        return MLPWindowScorer(mlp=net)
