"""`MLPFusion`: the supervised comparator of the DQN, an MLP from the fusion state to 2 logits."""

from __future__ import annotations

from torch import Tensor, nn


class MLPFusion(nn.Module):
    """Learns the fused decision directly from the 15-value state (the supervised baseline of the
    DQN fusion in DQN-Fusion, Frenken et al. 2025).

    Args:
        state_dim: 15. hidden_dim: width. num_layers: hidden layers (>= 1). dropout: after each.

    Shapes:
        state: (G, state_dim) -> logits (G, 2).
    """

    def __init__(self, state_dim: int = 15, hidden_dim: int = 64, num_layers: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = state_dim
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_dim), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_dim
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, state: Tensor) -> Tensor:
        return self.net(state)
