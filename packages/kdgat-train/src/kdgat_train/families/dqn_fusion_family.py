"""The DQN fusion family: a Q-network that picks, per window, the weight alpha of the fused score
``(1 - alpha) * VGAE anomaly + alpha * GAT P(attack)`` over a frozen VGAE and GAT of the same variant.
It reads precomputed fusion inputs (not window graphs), updates itself (manual optimisation, one
device), and is evaluated beside two comparators (an MLP fusion and the best fixed alpha)."""

from __future__ import annotations

from pathlib import Path

from kdgat_schemas import RunFolder

from kdgat_train.config.settings import DQNSize
from kdgat_train.families.model_family import ModelFamily


class DQNFusionFamily(ModelFamily):
    """Fusion of a VGAE and a GAT by a Double DQN over their outputs."""

    token = "dqn"
    label = "fusion DQN"
    size_settings = DQNSize
    reads_window_graphs = False
    own_fields = ("training_config.fusion",)
    comparators = (("mlp", "fusion MLP"), ("fixed_alpha", "fusion fixed alpha"))
    single_device = True
    export_near_tie_share = 0.01  # windows whose greedy action may flip on a near-tie of Q-values

    def build_network(self, settings, num_ids: int, feature_dims: tuple[int, int] | None = None):
        """The Q-network: ``training_config.fusion.alpha_grid`` alphas evenly spaced in [0, 1] (21: 0, 0.05, ..., 1)."""
        from kdgat_models.fusion import STATE_DIM, QNetwork

        return QNetwork(state_dim=STATE_DIM, num_actions=settings.training_config.fusion.alpha_grid,
                        **settings.model_size().model_dump())

    def build_stage(self, settings, cache, upstream):
        """The fusion data (inputs of the frozen VGAE and GAT in ``upstream``) and the DQN module."""
        from kdgat_train.fusion.fusion_stage import build_fusion

        return build_fusion(settings, cache, vgae=upstream["training_config.fusion.vgae_run"],
                            gat=upstream["training_config.fusion.gat_run"], build_network=self.build_network)

    def _load_fitted(self, settings, cache, run_dir: Path, upstream):
        """``(data, module)`` of the fusion run ``run_dir`` with the weights it evaluated (best, or last without one)."""
        from kdgat_train.checkpoint_state import load_checkpoint_state

        data, module = self.build_stage(settings, cache, upstream)
        module.load_state_dict(load_checkpoint_state(RunFolder(run_dir).evaluated_checkpoint()), strict=True)
        return data, module

    def evaluate(self, settings, module, datamodule, run_dir: Path):
        from kdgat_train.fusion.fusion_evaluation import evaluate_fusion

        return evaluate_fusion(module, datamodule, run_dir, settings.training_config, settings.evaluation)

    def window_scorer(self, settings, cache, *, own, upstream):
        from kdgat_models.window_scorer import FusionWindowScorer

        data, module = self._load_fitted(settings, cache, own.run_dir, upstream)
        return FusionWindowScorer(vgae=data.vgae, gat=data.gat, q_network=module.net,
                                  reference=data.normaliser().reference, window=cache.manifest.window)

    def cross_scores(self, settings, source, cross, splits: list[str], *, own, upstream) -> dict:
        """The DQN policy over its own VGAE and GAT runs (its comparators are not re-run)."""
        from kdgat_train.fusion.inputs import fusion_inputs

        data, module = self._load_fitted(settings, source, own.run_dir, upstream)
        normaliser = data.normaliser()  # of the run's own training normals
        return {split: module.fused_scores(*fusion_inputs(data.vgae, data.gat, cross.split(split), normaliser,
                                                          cross.manifest.window, data.evaluation_batch_size).tensors()[:3]).numpy()
                for split in splits}
