"""`WindowMLP`: a graph-less window classifier, the cheapest deployable student (GLNN: Zhang et al.,
"Graph-less Neural Networks: Teaching Old MLPs New Tricks via Distillation", ICLR 2022).

It reads the same node features and CAN-ID embeddings as the GAT, but passes no message along an
edge: each window is the mean and the spread of its nodes' features and the mean of their ID
embeddings, plus its node count, through an MLP to two logits. Trained with KD from the GAT
teacher it is the honest control for "does the graph help": the same inputs and teacher, no graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from kdgat_models.segment_ops import segment_mean, segment_sum


@dataclass
class WindowMLPOutput:
    """logits: (G, 2). window_features: (G, D), what the MLP reads."""

    logits: Tensor
    window_features: Tensor


class WindowMLP(nn.Module):
    """Pooled node features -> MLP -> 2 logits.

    Args:
        num_ids: vocabulary size (index 0 = UNK) for the ID embedding.
        in_channels: continuous node features per node.
        hidden_dim: width of every hidden layer. num_layers: hidden layers (>= 1).
        id_embedding_dim: width of the ID embedding (0: no embedding, for domains without a vocabulary).
        dropout: after each hidden layer.

    Shapes:
        x: (N, F) float. node_id: (N,) long. batch: (N,) long, sorted. Returns logits (G, 2).
    """

    def __init__(self, *, num_ids: int, in_channels: int = 10, hidden_dim: int = 64, num_layers: int = 2,
                 id_embedding_dim: int = 8, dropout: float = 0.1) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.id_embedding = nn.Embedding(num_ids, id_embedding_dim) if id_embedding_dim > 0 else None
        width = 2 * in_channels + id_embedding_dim + 1
        layers: list[nn.Module] = []
        for index in range(num_layers):
            layers += [nn.Linear(width if index == 0 else hidden_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(hidden_dim, 2)

    def window_features(self, x: Tensor, node_id: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        """(G, 2F + E + 1): per window the mean and standard deviation of its node features, the mean of its
        nodes' ID embeddings and log(1 + nodes)."""
        x = x.float()
        mean = segment_mean(x, batch, num_graphs)
        spread = (segment_mean(x * x, batch, num_graphs) - mean * mean).clamp_min(0).add(1e-8).sqrt()
        nodes = segment_sum(torch.ones_like(x[:, :1]), batch, num_graphs)
        parts = [mean, spread]
        if self.id_embedding is not None:
            parts.append(segment_mean(self.id_embedding(node_id), batch, num_graphs))
        return torch.cat([*parts, torch.log1p(nodes)], dim=-1)

    def forward(self, x: Tensor, node_id: Tensor, batch: Tensor, num_graphs: int) -> WindowMLPOutput:
        features = self.window_features(x, node_id, batch, num_graphs)
        return WindowMLPOutput(self.head(self.body(features)), features)

    def forward_batch(self, batch) -> WindowMLPOutput:
        """The output for a PyG ``Batch`` (its edges are not read)."""
        return self(batch.x, batch.node_id, batch.batch, batch.num_graphs)
