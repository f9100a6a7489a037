"""Training-time ID dropout: a random share of nodes is shown as UNK, so the UNK row is trained."""

from __future__ import annotations

import torch
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from kdgat_data.vocabulary import UNK_INDEX


class RandomIdDropout(BaseTransform):
    """Replace each node's ``node_id`` by UNK with probability ``p`` (training only).

    Without it, the UNK embedding row would never receive a gradient and every unseen test ID
    would hit an untrained vector (a failure of the published system).

    Args:
        p: per-node probability, in [0, 1].
        generator: optional ``torch.Generator`` for reproducible draws.
    """

    def __init__(self, p: float = 0.05, generator: torch.Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def forward(self, data: Data) -> Data:
        if self.p == 0.0:
            return data
        data = data.clone()
        drop = torch.rand(data.node_id.shape, generator=self.generator) < self.p
        data.node_id = data.node_id.masked_fill(drop, UNK_INDEX)
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"
