"""The GAT classifier family: `kdgat_models.GATWithJK` trained on labelled windows (optionally with a
curriculum), scored by P(attack), distilled from a GAT teacher by temperature-scaled logits."""

from __future__ import annotations

from kdgat_train.config.settings import GATSize
from kdgat_train.families.model_family import ModelFamily


class GATFamily(ModelFamily):
    """Supervised graph classifier (`GATWithJK`) over window graphs."""

    token = "gat"
    label = "GAT"
    size_settings = GATSize
    without_vocabulary = {"id_embedding_dim": 0}
    own_fields = ("training_config.loss", "training_config.focal_gamma", "training_config.sampling")
    mode_fields = {"curriculum": ("training_config.curriculum",)}
    kd_window_outputs = ("logits",)
    kd_node_outputs = ()
    distillation_fields = ("distillation_config.teacher_run", "distillation_config.teacher_outputs",
                           "distillation_config.temperature", "distillation_config.alpha")

    def build_network(self, settings, num_ids: int, feature_dims: tuple[int, int]):
        from kdgat_models import GATWithJK

        in_channels, edge_dim = feature_dims
        return GATWithJK(num_ids=num_ids, in_channels=in_channels, edge_dim=edge_dim, add_self_loops=False,
                         **settings.model_size().model_dump())

    def build_module(self, settings, net, datamodule, teacher, teacher_outputs=None):
        from kdgat_train.modules.classifier import GraphClassifierModule

        t, kd = settings.training_config, settings.distillation_config
        return GraphClassifierModule(
            net=net, learning_rate=t.learning_rate, weight_decay=t.weight_decay, optimizer=t.optimizer,
            scheduler=t.scheduler, epochs=t.epochs, loss=t.loss,
            class_counts=datamodule.class_counts(), focal_gamma=t.focal_gamma, teacher=teacher, teacher_outputs=teacher_outputs,
            kd_temperature=kd.temperature, kd_alpha=kd.alpha,
        )

    def scorer(self, net, *, window: int):
        """P(attack) per window (`kdgat_models.window_scorer.GATWindowScorer`)."""
        from kdgat_models.window_scorer import GATWindowScorer

        return GATWindowScorer(gat=net)
