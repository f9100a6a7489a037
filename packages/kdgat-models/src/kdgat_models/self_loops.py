"""Self-loops in the data, once per batch, so the GAT layers never add them.

``GATConv`` adds self-loops inside every layer by default, which repeats the work per layer,
drops the real self-loop transitions of a window (ID A followed by A) and puts data-dependent
shapes into every layer, which breaks compiled graphs. Here a loop is added once, in the data,
to each node that has none; real loops keep their own features. Models built with
``add_self_loops=False`` expect graphs prepared this way (the `SelfLoops` transform); with the
default ``True`` they call `ensure_self_loops` themselves (eager only: it has a data-dependent
shape, so compiled models should get looped data instead).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from kdgat_models.segment_ops import segment_mean


def ensure_self_loops(edge_index: Tensor, edge_attr: Tensor | None, num_nodes: int) -> tuple[Tensor, Tensor | None]:
    """Add a self-loop to every node without one; its features are the mean of the node's in-edges.

    Args:
        edge_index: (2, E) long. edge_attr: (E, F) or None. num_nodes: N.

    Returns:
        ``(edge_index (2, E + M), edge_attr (E + M, F) or None)`` for the M nodes that had no loop.
    """
    src, dst = edge_index[0], edge_index[1]
    has_loop = torch.zeros(num_nodes, dtype=torch.bool, device=edge_index.device).index_fill_(0, src[src == dst], True)
    missing = torch.nonzero(~has_loop).view(-1)
    if edge_attr is not None:
        edge_attr = torch.cat([edge_attr, segment_mean(edge_attr, dst, num_nodes).index_select(0, missing)], dim=0)
    return torch.cat([edge_index, missing.expand(2, -1)], dim=1), edge_attr


class SelfLoops(BaseTransform):
    """PyG transform applying `ensure_self_loops` to a `Data` or a collated `Batch` (once per batch)."""

    def forward(self, data: Data) -> Data:
        data = data.clone()
        data.edge_index, data.edge_attr = ensure_self_loops(data.edge_index, data.get("edge_attr"), data.num_nodes)
        return data
