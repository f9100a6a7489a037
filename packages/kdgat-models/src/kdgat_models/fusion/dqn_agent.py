"""`DQNFusionAgent`: learns, per window, the weight alpha of the GAT in the fused score.

Double DQN (van Hasselt et al., AAAI 2016) with a Huber loss, a target network synced every N
updates, uniform replay and epsilon-greedy exploration whose decay is applied on every
`act` call. The agent only picks alpha; the prediction is always the fused score against a
threshold (the published system predicted from the action index, alpha > 0.5).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from kdgat_models.fusion.q_network import QNetwork
from kdgat_models.fusion.replay_buffer import ReplayBuffer
from kdgat_models.fusion.state import fused_score, predict


@dataclass(frozen=True, kw_only=True)
class EpsilonSchedule:
    """Exponential decay from ``start`` to ``end``: ``end + (start - end) * exp(-step / decay_steps)``."""

    start: float = 1.0
    end: float = 0.05
    decay_steps: float = 2_000.0

    def __call__(self, step: int) -> float:
        return self.end + (self.start - self.end) * math.exp(-step / self.decay_steps)


class DQNFusionAgent:
    """DQN over the 15-value fusion state with ``num_actions`` alphas evenly spaced in [0, 1]
    (Double DQN, van Hasselt et al. 2016; DQN-Fusion, Frenken et al. 2025).

    Args:
        q_network: the online network (its target copy is made here).
        epsilon: exploration schedule over `act` calls.
        gamma: discount (fusion is one step per window, so small values are usual).
        learning_rate: Adam learning rate.
        batch_size: replay batch per update.
        target_sync_every: updates between copies of the online weights into the target network.
        replay_capacity: replay size in transitions.
        generator: optional ``torch.Generator`` for exploration and replay sampling.

    Shapes:
        state: (B, 15). act -> (B,) action indices. anomaly_score, p_attack: (B,) in [0, 1].
    """

    def __init__(
        self,
        *,
        q_network: QNetwork,
        epsilon: EpsilonSchedule | None = None,
        gamma: float = 0.0,
        learning_rate: float = 1e-3,
        batch_size: int = 128,
        target_sync_every: int = 100,
        replay_capacity: int = 50_000,
        generator: torch.Generator | None = None,
    ) -> None:
        self.online = q_network
        self.target = copy.deepcopy(q_network).eval()
        for parameter in self.target.parameters():
            parameter.requires_grad_(False)
        self.num_actions = q_network.net[-1].out_features
        self.alphas = torch.linspace(0.0, 1.0, self.num_actions)
        self.epsilon = epsilon or EpsilonSchedule()
        self.gamma = gamma
        self.batch_size = batch_size
        self.target_sync_every = target_sync_every
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=learning_rate)
        self.buffer = ReplayBuffer(replay_capacity, q_network.net[0].in_features, generator)
        self.generator = generator
        self.steps = 0  # act calls: drives epsilon
        self.updates = 0  # gradient steps: drives target syncs

    @property
    def current_epsilon(self) -> float:
        return self.epsilon(self.steps)

    def act(self, state: Tensor, explore: bool = True) -> Tensor:
        """Action index per row of ``state`` (B, 15): epsilon-greedy when exploring, else greedy."""
        with torch.no_grad():
            greedy = self.online(state).argmax(-1)
        if not explore:
            return greedy
        epsilon = self.current_epsilon
        self.steps += 1
        random_actions = torch.randint(0, self.num_actions, greedy.shape, generator=self.generator).to(greedy.device)
        explore_mask = (torch.rand(greedy.shape, generator=self.generator) < epsilon).to(greedy.device)
        return torch.where(explore_mask, random_actions, greedy)

    def alpha(self, action: Tensor) -> Tensor:
        return self.alphas.to(action.device)[action]

    def fuse(self, state: Tensor, anomaly_score: Tensor, p_attack: Tensor, threshold: float) -> tuple[Tensor, Tensor]:
        """Greedy alpha per window -> ``(fused score, prediction)``; the prediction comes from the score."""
        score = fused_score(self.alpha(self.act(state, explore=False)), anomaly_score, p_attack)
        return score, predict(score, threshold)

    def remember(self, state, action, reward, next_state, done) -> None:
        self.buffer.push(state, action, reward, next_state, done)

    def update(self) -> float | None:
        """One Double-DQN step on a replay batch; returns the Huber loss (None if the buffer is too small)."""
        if len(self.buffer) < self.batch_size:
            return None
        device = next(self.online.parameters()).device  # the buffer lives on the CPU
        state, action, reward, next_state, done = (t.to(device) for t in self.buffer.sample(self.batch_size))
        q = self.online(state).gather(1, action[:, None]).squeeze(1)
        with torch.no_grad():
            next_action = self.online(next_state).argmax(-1, keepdim=True)  # chosen by the online net
            next_q = self.target(next_state).gather(1, next_action).squeeze(1)  # valued by the target net
            target = reward + self.gamma * (1 - done) * next_q
        loss = F.smooth_l1_loss(q, target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.target_sync_every == 0:
            self.sync_target()
        return float(loss.detach())

    def sync_target(self) -> None:
        self.target.load_state_dict(self.online.state_dict())
