"""The VGAE family: `kdgat_models.GraphAutoencoderNeighborhood` trained to reconstruct windows (all of
them, or the normal ones only), scored by its feature + neighbourhood reconstruction error, distilled
from a VGAE teacher through its latent and reconstruction."""

from __future__ import annotations

from kdgat_train.config.settings import VGAESize
from kdgat_train.families.model_family import ModelFamily


class VGAEFamily(ModelFamily):
    """Unsupervised graph autoencoder (anomaly detector) over window graphs."""

    token = "vgae"
    label = "VGAE"
    size_settings = VGAESize
    without_vocabulary = {"id_embedding_dim": 0, "decode_ids": False}
    own_fields = ("training_config.vgae",)  # a whole group: every field in it, present and future
    kd_window_outputs = ()
    kd_node_outputs = ("z", "x_reconstruction")
    distillation_fields = ("distillation_config.teacher_run", "distillation_config.teacher_outputs",
                           "distillation_config.latent_weight",
                           "distillation_config.reconstruction_weight")

    def build_network(self, settings, num_ids: int, feature_dims: tuple[int, int]):
        from kdgat_models import GraphAutoencoderNeighborhood

        in_channels, edge_dim = feature_dims
        return GraphAutoencoderNeighborhood(num_ids=num_ids, in_channels=in_channels, edge_dim=edge_dim,
                                            add_self_loops=False, **settings.model_size().model_dump())

    def build_module(self, settings, net, datamodule, teacher, teacher_outputs=None):
        from kdgat_train.modules.autoencoder import AutoencoderModule

        t, kd = settings.training_config, settings.distillation_config
        return AutoencoderModule(
            net=net, learning_rate=t.learning_rate, weight_decay=t.weight_decay, optimizer=t.optimizer,
            scheduler=t.scheduler, epochs=t.epochs, id_weight=t.vgae.id_weight,
            neighbourhood_weight=t.vgae.neighbourhood_weight, kl_weight=t.vgae.kl_weight, teacher=teacher, teacher_outputs=teacher_outputs,
            kd_latent_weight=kd.latent_weight, kd_reconstruction_weight=kd.reconstruction_weight,
        )

    def scorer(self, net, *, window: int):
        """The anomaly score: feature + neighbourhood reconstruction error per window
        (`kdgat_models.window_scorer.VGAEWindowScorer`)."""
        from kdgat_models.window_scorer import VGAEWindowScorer

        return VGAEWindowScorer(vgae=net, window=window)
