"""`FusionModule`: trains the DQN fusion agent on precomputed VGAE + GAT outputs with Lightning.

Each training batch is one decision per window: the agent picks alpha (epsilon-greedy), the fused
score ``(1 - alpha) * anomaly + alpha * p_attack`` is rewarded by how close it lands to the window's
label, the transitions go to the replay buffer and one Double-DQN update follows. Prediction is
never taken from the action: it is always ``fused score > threshold``, the threshold chosen on
validation (DESIGN.md §4, failure 3 of §9).
"""

from __future__ import annotations

import lightning as L
import torch
from kdgat_models.fusion import DQNFusionAgent, EpsilonSchedule, fused_score
from torch import Tensor


class FusionModule(L.LightningModule):
    """DQN fusion training (manual optimisation: the agent owns its update rule).

    Args:
        net: the online `QNetwork` (its target copy is made by the agent and saved with it).
        learning_rate: Adam learning rate of the agent.
        epsilon: exploration schedule, decayed on every training batch.
        gamma, target_sync_every, replay_capacity: Double-DQN settings.
        batch_size: replay batch per update.
        class_weights: (2,) reward weight of normal and attack windows (balanced: attacks are rare).
        seed: seeds exploration and replay sampling.
        source_runs: ``{"vgae": run folder, "gat": run folder}`` of the frozen networks fused.

    Shapes:
        batch: (state (B, 15), anomaly (B,), p_attack (B,), y (B,)).
    """

    def __init__(self, *, net, learning_rate: float = 1e-3, epsilon: EpsilonSchedule | None = None, gamma: float = 0.0,
                 target_sync_every: int = 20, replay_capacity: int = 50_000, batch_size: int = 128,
                 class_weights: Tensor | None = None, seed: int = 0, source_runs: dict[str, str] | None = None) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.source_runs = dict(source_runs or {})  # run folders of the fused VGAE and GAT, for the record
        self.net = net
        self.agent = DQNFusionAgent(q_network=net, epsilon=epsilon, gamma=gamma, learning_rate=learning_rate,
                                    batch_size=batch_size, target_sync_every=target_sync_every,
                                    replay_capacity=replay_capacity, generator=torch.Generator().manual_seed(seed))
        self.target_net = self.agent.target  # a submodule, so checkpoints carry it and it follows the device
        self.register_buffer("class_weights", class_weights if class_weights is not None else torch.ones(2))

    def reward(self, alpha: Tensor, anomaly: Tensor, p_attack: Tensor, y: Tensor) -> Tensor:
        """``w_y * (1 - 2 |y - fused score|)``: +w for a score on the label, -w for the opposite end. (B,)"""
        return self.class_weights[y] * (1 - 2 * (y.float() - fused_score(alpha, anomaly, p_attack)).abs())

    def training_step(self, batch, batch_index):
        state, anomaly, p_attack, y = batch
        self.log("train/epsilon", self.agent.current_epsilon, on_step=False, on_epoch=True, batch_size=len(y))
        action = self.agent.act(state)
        reward = self.reward(self.agent.alpha(action), anomaly, p_attack, y)
        done = torch.ones_like(reward)  # one decision per window: every transition is terminal
        self.agent.remember(state, action, reward, state, done)
        loss = self.agent.update()
        self.log("train/reward", reward.mean(), on_step=False, on_epoch=True, batch_size=len(y))
        if loss is not None:
            self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=len(y))

    def validation_step(self, batch, batch_index):
        state, anomaly, p_attack, y = batch
        alpha = self.agent.alpha(self.agent.act(state, explore=False))
        reward = self.reward(alpha, anomaly, p_attack, y)
        self.log("val/loss", -reward.mean(), on_epoch=True, batch_size=len(y))  # lower is better, as for every stage
        self.log("val/reward", reward.mean(), on_epoch=True, batch_size=len(y))
        self.log("val/mean_alpha", alpha.mean(), on_epoch=True, batch_size=len(y))

    @torch.no_grad()
    def fused_scores(self, state: Tensor, anomaly: Tensor, p_attack: Tensor) -> Tensor:
        """Greedy alpha per window -> fused score (G,), on the CPU."""
        self.eval()
        alpha = self.agent.alpha(self.agent.act(state.to(self.device), explore=False))
        return fused_score(alpha, anomaly.to(self.device), p_attack.to(self.device)).float().cpu()

    def configure_optimizers(self):
        return self.agent.optimizer

    def on_save_checkpoint(self, checkpoint) -> None:
        checkpoint["fusion_agent"] = {"steps": self.agent.steps, "updates": self.agent.updates}

    def on_load_checkpoint(self, checkpoint) -> None:
        counters = checkpoint.get("fusion_agent", {})
        self.agent.steps, self.agent.updates = counters.get("steps", 0), counters.get("updates", 0)
