"""Build the fusion stage: frozen VGAE + GAT of the same size and distillation variant, and the DQN."""

from __future__ import annotations

import logging
import math

from kdgat_models.fusion import EpsilonSchedule

from kdgat_train.config.run_settings import RunSettings
from kdgat_train.families import family_of
from kdgat_train.fusion.fusion_data_module import FusionDataModule
from kdgat_train.fusion.fusion_module import FusionModule
from kdgat_train.stages.upstream_runs import find_fusion_runs, load_frozen_network
from kdgat_train.window_data_module import WindowGraphDataModule, feature_dims, open_cache


def build_fusion(settings: RunSettings) -> tuple[FusionDataModule, FusionModule]:
    """The fusion data (inputs from the two frozen networks) and the DQN module of ``settings``."""
    t = settings.training_config
    vgae_run, gat_run = find_fusion_runs(settings)
    logging.getLogger(__name__).info("fusion of VGAE run %s and GAT run %s", vgae_run, gat_run)
    cache = open_cache(settings.dataset_config, settings.evaluation.min_class_windows)
    num_ids, dims = cache.manifest.vocabulary_size, feature_dims(cache)
    data = FusionDataModule(
        windows=WindowGraphDataModule(dataset=settings.dataset_config, training=t, cache=cache), training=t,
        vgae=load_frozen_network(vgae_run, num_ids, dims), gat=load_frozen_network(gat_run, num_ids, dims),
    )
    steps = t.epochs * math.ceil(len(cache.split("train").y) / t.batch_size)  # act calls over training
    epsilon = EpsilonSchedule(start=t.fusion.epsilon_start, end=t.fusion.epsilon_end,
                              decay_steps=max(t.fusion.epsilon_decay * steps, 1e-6))
    module = FusionModule(
        net=family_of(settings.name).build_network(settings, num_ids, dims), learning_rate=t.learning_rate, epsilon=epsilon, gamma=t.fusion.gamma,
        target_sync_every=t.fusion.target_sync_every, replay_capacity=t.fusion.replay_capacity,
        batch_size=t.batch_size, class_weights=data.class_weights(), seed=t.seed,
        source_runs={"vgae": str(vgae_run), "gat": str(gat_run)},
    )
    return data, module
