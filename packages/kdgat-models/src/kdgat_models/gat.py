"""`GATWithJK`: the GAT graph classifier of KD-GAT (Frenken et al. 2025).

CAN-ID embedding ++ continuous node features -> L x GATConv (multi-head, concatenated) -> ReLU,
dropout -> jumping knowledge over all layers (Xu et al. 2018) -> graph pooling -> MLP -> logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch_geometric.nn import JumpingKnowledge, global_max_pool

from kdgat_models.gat_conv import EdgeGATConv
from kdgat_models.segment_ops import segment_mean
from kdgat_models.self_loops import ensure_self_loops


@dataclass
class GATOutput:
    """What `GATWithJK.forward` returns.

    Shapes:
        logits: (G, num_classes). embedding: (G, pooled_dim), the pooled graph embedding.
        attention: per layer ``(edge_index (2, E), alpha (E, heads))`` when requested, else None.
    """

    logits: Tensor
    embedding: Tensor
    attention: list[tuple[Tensor, Tensor]] | None = None


class GATWithJK(nn.Module):
    """Graph Attention Network with jumping knowledge for window-graph classification.

    Reference: Veličković et al., "Graph Attention Networks", ICLR 2018; Xu et al., "Representation
    Learning on Graphs with Jumping Knowledge Networks", ICML 2018; KD-GAT (Frenken et al., 2025).

    Args:
        num_ids: rows of the ID embedding (vocabulary size including UNK at 0).
        in_channels: continuous node features per node (10 for CAN windows).
        edge_dim: edge features per edge (11 for CAN windows), or ``None`` to ignore edge features.
        id_embedding_dim: width of the ID embedding; 0 = no embedding (entities without a fixed vocabulary).
        hidden_dim: output width per attention head.
        num_layers: GAT layers, L >= 1.
        heads: attention heads per layer (outputs concatenated: hidden_dim * heads per layer).
        dropout: dropout after each layer and in the MLP head.
        attention_dropout: dropout on attention coefficients.
        jk_mode: ``cat`` | ``max`` | ``lstm``.
        pooling: ``mean`` or ``multi`` (mean ++ max).
        fc_layers: linear layers in the head (1 = straight to the logits).
        fc_hidden_dim: width of the head's hidden layers (default: half the pooled width).
        num_classes: output logits (2: normal, attack).
        add_self_loops: add missing self-loops in ``forward`` (eager convenience). Set ``False`` and
            feed graphs prepared with `SelfLoops` for compiled models (see `self_loops`).

    Shapes:
        x: (N, in_channels) float. node_id: (N,) long. edge_index: (2, E) long. edge_attr: (E, edge_dim).
        batch: (N,) long graph index of each node. Output logits: (G, num_classes).
    """

    def __init__(
        self,
        num_ids: int,
        in_channels: int = 10,
        edge_dim: int | None = 11,
        id_embedding_dim: int = 8,
        hidden_dim: int = 24,
        num_layers: int = 2,
        heads: int = 4,
        dropout: float = 0.2,
        attention_dropout: float = 0.0,
        jk_mode: str = "cat",
        pooling: str = "mean",
        fc_layers: int = 2,
        fc_hidden_dim: int | None = None,
        num_classes: int = 2,
        add_self_loops: bool = True,
    ) -> None:
        super().__init__()
        if jk_mode not in ("cat", "max", "lstm"):
            raise ValueError(f"jk_mode must be cat, max or lstm, got {jk_mode!r}")
        if pooling not in ("mean", "multi"):
            raise ValueError(f"pooling must be mean or multi, got {pooling!r}")
        if num_layers < 1 or fc_layers < 1:
            raise ValueError("num_layers and fc_layers must be at least 1")
        # 0 = no entity embedding: domains whose entities (e.g. hosts) have no fixed vocabulary
        self.id_embedding = nn.Embedding(num_ids, id_embedding_dim) if id_embedding_dim > 0 else None
        layer_width = hidden_dim * heads
        self.convs = nn.ModuleList(
            EdgeGATConv(
                (in_channels + id_embedding_dim) if i == 0 else layer_width, hidden_dim, heads=heads,
                edge_dim=edge_dim, dropout=attention_dropout,
            )
            for i in range(num_layers)
        )
        self.dropout = nn.Dropout(dropout)
        self.jk = JumpingKnowledge(jk_mode, channels=layer_width, num_layers=num_layers)
        jk_width = layer_width * num_layers if jk_mode == "cat" else layer_width
        self.pooling = pooling
        self.pooled_dim = jk_width * (2 if pooling == "multi" else 1)
        fc_hidden = fc_hidden_dim or max(self.pooled_dim // 2, num_classes)
        head: list[nn.Module] = []
        width = self.pooled_dim
        for _ in range(fc_layers - 1):
            head += [nn.Linear(width, fc_hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = fc_hidden
        head.append(nn.Linear(width, num_classes))
        self.head = nn.Sequential(*head)
        self.uses_edge_attr = edge_dim is not None
        self.add_self_loops = add_self_loops

    def forward(
        self,
        x: Tensor,
        node_id: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None,
        batch: Tensor,
        num_graphs: int,
        return_attention: bool = False,
    ) -> GATOutput:
        h = torch.cat([self.id_embedding(node_id), x], dim=-1) if self.id_embedding is not None else x  # (N, emb + in_channels)
        edge_attr = edge_attr if self.uses_edge_attr else None
        if self.add_self_loops:
            edge_index, edge_attr = ensure_self_loops(edge_index, edge_attr, h.size(0))  # once, for all layers
        layer_outputs, attention = [], []
        for conv in self.convs:
            if return_attention:
                h, (att_index, alpha) = conv(h, edge_index, edge_attr, return_attention_weights=True)
                attention.append((att_index, alpha))
            else:
                h = conv(h, edge_index, edge_attr)  # (N, hidden * heads)
            h = self.dropout(torch.relu(h))
            layer_outputs.append(h)
        h = self.jk(layer_outputs)  # (N, jk_width)
        pooled = segment_mean(h, batch, num_graphs)  # (G, jk_width)
        if self.pooling == "multi":
            pooled = torch.cat([pooled, global_max_pool(h, batch, size=num_graphs)], dim=-1)
        return GATOutput(self.head(pooled), pooled, attention if return_attention else None)

    def forward_batch(self, batch, return_attention: bool = False) -> GATOutput:
        """``forward`` on a PyG ``Batch`` with ``x``, ``node_id``, ``edge_index``, ``edge_attr``, ``batch``."""
        return self(batch.x, batch.node_id, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs,
                    return_attention=return_attention)
