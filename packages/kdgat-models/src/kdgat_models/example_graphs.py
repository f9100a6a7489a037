"""Realistic random window graphs for summaries, benchmarks and tests (no dataset needed)."""

from __future__ import annotations

import torch
from torch_geometric.data import Batch, Data


def example_window(num_nodes: int = 30, num_edges: int = 60, num_ids: int = 100, generator: torch.Generator | None = None) -> Data:
    """One window-like graph: a transition chain over ``num_nodes`` IDs plus random extra edges.

    Shapes: x (N, 10), node_id (N,), edge_index (2, E), edge_attr (E, 11), y (1,).
    """
    g = generator
    chain = torch.arange(num_nodes)
    extra = max(num_edges - (num_nodes - 1), 0)
    src = torch.cat([chain[:-1], torch.randint(0, num_nodes, (extra,), generator=g)])
    dst = torch.cat([chain[1:], torch.randint(0, num_nodes, (extra,), generator=g)])
    return Data(
        x=torch.rand(num_nodes, 10, generator=g),
        node_id=torch.randint(0, num_ids, (num_nodes,), generator=g),
        edge_index=torch.stack([src, dst]),
        edge_attr=torch.rand(src.numel(), 11, generator=g),
        y=torch.randint(0, 2, (1,), generator=g),
    )


def example_batch(num_graphs: int, num_ids: int = 100, min_nodes: int = 20, max_nodes: int = 50, edges_per_node: float = 2.0,
                  seed: int = 0) -> Batch:
    """A batch of ``num_graphs`` windows with 20-50 nodes and about 2 edges per node (~100 edges)."""
    g = torch.Generator().manual_seed(seed)
    graphs = []
    for _ in range(num_graphs):
        n = int(torch.randint(min_nodes, max_nodes + 1, (1,), generator=g))
        graphs.append(example_window(n, int(n * edges_per_node), num_ids, g))
    return Batch.from_data_list(graphs)
