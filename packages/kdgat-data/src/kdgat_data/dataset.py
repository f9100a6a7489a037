"""The graph cache as a PyTorch Geometric dataset (works with ``torch_geometric.loader.DataLoader``)."""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data, Dataset

from kdgat_data.graph_arrays import GraphArrays


class WindowGraphDataset(Dataset):
    """One PyG `Data` per window of a `GraphArrays` store (typically memory-mapped from the cache).

    Each item has ``x`` (n, 10) float32 continuous node features, ``node_id`` (n,) long vocabulary
    indices (0 = UNK), ``edge_index`` (2, e) long, ``edge_attr`` (e, 11) float32, ``y`` (1,) long,
    ``node_y`` (n,) long and ``attack_type`` (1,) long.

    Args:
        arrays: the collated windows.
        transform: applied to each item on access (e.g. `RandomIdDropout` for training).
    """

    def __init__(self, arrays: GraphArrays, transform=None) -> None:
        super().__init__(root=None, transform=transform)
        self.arrays = arrays

    def len(self) -> int:
        return len(self.arrays)

    def get(self, idx: int) -> Data:
        a = self.arrays
        n0, n1 = int(a.node_ptr[idx]), int(a.node_ptr[idx + 1])
        e0, e1 = int(a.edge_ptr[idx]), int(a.edge_ptr[idx + 1])
        return Data(
            x=torch.from_numpy(np.array(a.x[n0:n1])),
            node_id=torch.from_numpy(np.array(a.node_id[n0:n1], dtype=np.int64)),
            edge_index=torch.from_numpy(np.array(a.edge_index[:, e0:e1], dtype=np.int64)),
            edge_attr=torch.from_numpy(np.array(a.edge_attr[e0:e1])),
            y=torch.tensor([int(a.y[idx])]),
            node_y=torch.from_numpy(np.array(a.node_y[n0:n1], dtype=np.int64)),
            attack_type=torch.tensor([int(a.attack_type[idx])]),
        )
