"""Build the fusion stage: frozen VGAE + GAT of the same size and distillation variant, and the DQN."""

from __future__ import annotations

import logging
import math

from kdgat_models.fusion import EpsilonSchedule

from kdgat_train.config.run_settings import RunSettings
from kdgat_train.fusion.data_module import FusionDataModule
from kdgat_train.modules.fusion import FusionModule
from kdgat_train.stages.networks import build_network
from kdgat_train.stages.teacher import find_fusion_runs, load_frozen_network


def build_fusion(settings: RunSettings) -> tuple[FusionDataModule, FusionModule]:
    """The fusion data (inputs from the two frozen networks) and the DQN module of ``settings``."""
    t = settings.training_config
    vgae_run, gat_run = find_fusion_runs(settings)
    logging.getLogger(__name__).info("fusion of VGAE run %s and GAT run %s", vgae_run, gat_run)
    data = FusionDataModule(settings.dataset_config, t)
    data.vgae = load_frozen_network(vgae_run, data.num_ids, data.windows.feature_dims)
    data.gat = load_frozen_network(gat_run, data.num_ids, data.windows.feature_dims)
    steps = t.epochs * math.ceil(len(data.prepare().split("train").y) / t.batch_size)  # act calls over training
    epsilon = EpsilonSchedule(t.fusion_epsilon_start, t.fusion_epsilon_end, max(t.fusion_epsilon_decay * steps, 1e-6))
    module = FusionModule(
        build_network(settings, data.num_ids), t.learning_rate, epsilon, t.fusion_gamma, t.fusion_target_sync_every,
        t.fusion_replay_capacity, t.batch_size, data.class_weights(), t.seed,
    )
    module.vgae_run, module.gat_run = vgae_run, gat_run
    return data, module
