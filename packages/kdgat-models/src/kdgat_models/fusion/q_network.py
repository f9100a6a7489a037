"""`QNetwork`: LayerNorm MLP from the fusion state to one Q-value per alpha action."""

from __future__ import annotations

from torch import Tensor, nn


class QNetwork(nn.Module):
    """Q(s, a) for the DQN fusion agent (Mnih et al., Nature 2015).

    Every width comes from the arguments (the published Q-network ignored its configured width).

    Args:
        state_dim: state size (15).
        num_actions: number of alpha values (21: 0, 0.05, ..., 1).
        hidden_dim: width of each hidden layer.
        num_layers: hidden layers (Linear -> LayerNorm -> ReLU), >= 1.
        dropout: dropout after each hidden layer.

    Shapes:
        state: (B, state_dim) -> (B, num_actions).
    """

    def __init__(self, state_dim: int = 15, num_actions: int = 21, hidden_dim: int = 160, num_layers: int = 2,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError("num_layers must be at least 1")
        layers: list[nn.Module] = []
        width = state_dim
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_dim), nn.LayerNorm(hidden_dim), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_dim
        layers.append(nn.Linear(width, num_actions))
        self.net = nn.Sequential(*layers)

    def forward(self, state: Tensor) -> Tensor:
        return self.net(state)
