"""A fixed-size ring buffer of (state, action, reward, next_state, done) transitions as tensors."""

from __future__ import annotations

import torch
from torch import Tensor


class ReplayBuffer:
    """Uniform experience replay (Lin 1992; Mnih et al. 2015).

    Args:
        capacity: transitions kept; the oldest are overwritten.
        state_dim: state size.
        generator: optional ``torch.Generator`` for reproducible sampling.

    Shapes:
        push: state, next_state (B, state_dim); action, reward, done (B,). sample: the same with B = batch_size.
    """

    def __init__(self, capacity: int, state_dim: int, generator: torch.Generator | None = None) -> None:
        self.capacity = capacity
        self.states = torch.zeros(capacity, state_dim)
        self.actions = torch.zeros(capacity, dtype=torch.long)
        self.rewards = torch.zeros(capacity)
        self.next_states = torch.zeros(capacity, state_dim)
        self.dones = torch.zeros(capacity)
        self.position = 0
        self.size = 0
        self.generator = generator

    def __len__(self) -> int:
        return self.size

    def push(self, state: Tensor, action: Tensor, reward: Tensor, next_state: Tensor, done: Tensor) -> None:
        """Add a batch of B transitions. Shapes: state/next_state (B, S); action, reward, done (B,)."""
        for start in range(0, state.size(0), self.capacity):
            chunk = slice(start, start + self.capacity)
            n = state[chunk].size(0)
            index = (self.position + torch.arange(n)) % self.capacity
            self.states[index] = state[chunk].detach().float().cpu()
            self.actions[index] = action[chunk].detach().long().cpu()
            self.rewards[index] = reward[chunk].detach().float().cpu()
            self.next_states[index] = next_state[chunk].detach().float().cpu()
            self.dones[index] = done[chunk].detach().float().cpu()
            self.position = (self.position + n) % self.capacity
            self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = torch.randint(0, self.size, (batch_size,), generator=self.generator)
        return self.states[index], self.actions[index], self.rewards[index], self.next_states[index], self.dones[index]
