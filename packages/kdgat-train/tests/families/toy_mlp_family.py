"""A toy student family in one module: a 2-layer MLP over node features, mean-pooled per window (no
graph), distilled from the GAT teacher. It is the proof that a new model family is one module plus
one registry line (the last line of this file); nothing else in the project names it."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from kdgat_models.segment_ops import segment_mean
from kdgat_models.window_scorer import WindowScorer
from kdgat_train.families import register_family
from kdgat_train.families.gat_family import GATFamily
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn


class MLPSize(BaseModel):
    """Constructor arguments of `NodeMLP` (its ``model_size_config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    hidden_dim: int = Field(16, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)


@dataclass
class MLPOutput:
    """logits: (G, 2)."""

    logits: Tensor


class NodeMLP(nn.Module):
    """Per-node MLP, window mean, linear head: what a window says without its edges.

    Args:
        in_channels: node feature width. hidden_dim: the MLP's width. dropout: between the layers.
    Shapes:
        x: (N, F), batch: (N,) -> node logits (N, 2) and window logits (G, 2).
    """

    def __init__(self, *, in_channels: int, hidden_dim: int = 16, dropout: float = 0.0) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_channels, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden_dim, hidden_dim), nn.ReLU())
        self.head = nn.Linear(hidden_dim, 2)

    def node_and_window_logits(self, x: Tensor, batch: Tensor, num_graphs: int) -> tuple[Tensor, Tensor]:
        hidden = self.body(x)  # (N, H)
        return self.head(hidden), self.head(segment_mean(hidden, batch, num_graphs))  # (N, 2), (G, 2)

    def forward_batch(self, batch) -> MLPOutput:
        return MLPOutput(self.node_and_window_logits(batch.x, batch.batch, batch.num_graphs)[1])


class MLPWindowScorer(WindowScorer):
    """P(attack) of a `NodeMLP`; a node's score is its own P(attack)."""

    family = "nodemlp"

    def __init__(self, *, mlp: NodeMLP) -> None:
        super().__init__()
        self.mlp = mlp
        self.freeze()

    def forward(self, x: Tensor, node_id: Tensor, edge_index: Tensor, edge_attr: Tensor, batch: Tensor,
                node_ptr: Tensor) -> tuple[Tensor, Tensor]:
        node_logits, logits = self.mlp.node_and_window_logits(x, batch, node_ptr.shape[0] - 1)
        return torch.softmax(logits.float(), -1)[:, 1], torch.softmax(node_logits.float(), -1)[:, 1]


class ToyMLPFamily(GATFamily):
    """A graph-less student: the GAT's module, loss, KD pairing and scoring, another network."""

    token = "nodemlp"
    label = "toy MLP"
    size_settings = MLPSize
    without_vocabulary = {}
    mode_fields = {}
    declared_learning = "supervised"
    declared_modes = ("all_samples",)
    teacher_family = "gat"
    default_sizes = {"teacher": {"hidden_dim": 32}, "student": {"hidden_dim": 8}}

    def build_network(self, settings, num_ids: int, feature_dims: tuple[int, int]):
        return NodeMLP(in_channels=feature_dims[0], **settings.model_size().model_dump())

    def scorer(self, net, *, window: int):
        return MLPWindowScorer(mlp=net)  # evaluation, export and kdgat-detect all score through it


register_family(ToyMLPFamily())
