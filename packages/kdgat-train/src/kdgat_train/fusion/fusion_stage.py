"""Build the fusion stage: frozen VGAE + GAT of the same size and distillation variant, and the DQN."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from kdgat_models.fusion import EpsilonSchedule

from kdgat_train.fusion.fusion_data_module import FusionDataModule
from kdgat_train.fusion.fusion_module import FusionModule
from kdgat_train.window_data_module import WindowGraphDataModule, feature_dims

if TYPE_CHECKING:  # the family hands the runs in; families build on this module
    from kdgat_train.config.run_settings import RunSettings
    from kdgat_train.families import FrozenRun


def build_fusion(settings: RunSettings, cache, *, vgae: FrozenRun, gat: FrozenRun,
                 build_network: Callable) -> tuple[FusionDataModule, FusionModule]:
    """The fusion data (inputs from the frozen ``vgae`` and ``gat`` runs) and the DQN module of ``settings``
    on ``cache``; ``build_network(settings, num_ids, feature_dims)`` builds its Q-network."""
    t = settings.training_config
    logging.getLogger(__name__).info("fusion of VGAE run %s and GAT run %s", vgae.run_dir, gat.run_dir)
    num_ids, dims = cache.manifest.vocabulary_size, feature_dims(cache)
    data = FusionDataModule(
        windows=WindowGraphDataModule(dataset=settings.dataset_config, training=t, cache=cache), training=t,
        vgae=vgae.net, gat=gat.net,
    )
    steps = t.epochs * math.ceil(len(cache.split("train").y) / t.batch_size)  # act calls over training
    epsilon = EpsilonSchedule(start=t.fusion.epsilon_start, end=t.fusion.epsilon_end,
                              decay_steps=max(t.fusion.epsilon_decay * steps, 1e-6))
    module = FusionModule(
        net=build_network(settings, num_ids, dims), learning_rate=t.learning_rate, epsilon=epsilon, gamma=t.fusion.gamma,
        target_sync_every=t.fusion.target_sync_every, replay_capacity=t.fusion.replay_capacity,
        batch_size=t.batch_size, class_weights=data.class_weights(), seed=t.seed,
        source_runs={"vgae": str(vgae.run_dir), "gat": str(gat.run_dir)},
    )
    return data, module
