"""Vectorised batching straight from the collated arrays: no per-window `Data` objects.

`WindowGraphDataset` + PyG's DataLoader build one `Data` per window and then collate them, about
0.4 ms per window in Python; `collate_windows` gathers a whole batch from the flat arrays with a
handful of numpy operations and gives the same `Batch` (same tensors, same order).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info
from torch_geometric.data import Batch

from kdgat_data.graph_arrays import GraphArrays


def segment_positions(ptr: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the items of the selected segments, concatenated, and each segment's length.

    Args:
        ptr: (S + 1,) start of each segment (a store's ``node_ptr`` or ``edge_ptr``). index: (B,) segments.

    Shapes: -> (sum of the B lengths,) positions, (B,) lengths.
    """
    starts, counts = ptr[index], ptr[index + 1] - ptr[index]
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return offsets + np.arange(int(counts.sum())), counts


def collate_arrays(arrays: GraphArrays, index) -> dict[str, np.ndarray]:
    """The windows ``index`` (in that order) as the flat numpy arrays of one batch (what `collate_windows`
    wraps as tensors; a caller that needs numpy, such as the streaming detector, skips the `Batch`).

    Shapes: x (n, 10) float32, node_id (n,) int64, edge_index (2, e) int64 with batch-global node
    indices, edge_attr (e, 11), y (B,) int64, node_y (n,) int64, attack_type (B,) int64,
    batch (n,) int64, ptr (B + 1,) int64.
    """
    index = np.asarray(index, dtype=np.int64)
    nodes, node_counts = segment_positions(np.asarray(arrays.node_ptr), index)
    edges, edge_counts = segment_positions(np.asarray(arrays.edge_ptr), index)
    node_offset = np.concatenate([[0], np.cumsum(node_counts)[:-1]])
    edge_index = np.asarray(arrays.edge_index)[:, edges].astype(np.int64) + np.repeat(node_offset, edge_counts)
    return {
        "x": np.asarray(arrays.x)[nodes],
        "node_id": np.asarray(arrays.node_id)[nodes].astype(np.int64),
        "edge_index": edge_index,
        "edge_attr": np.asarray(arrays.edge_attr)[edges],
        "y": np.asarray(arrays.y)[index].astype(np.int64),
        "node_y": np.asarray(arrays.node_y)[nodes].astype(np.int64),
        "attack_type": np.asarray(arrays.attack_type)[index].astype(np.int64),
        "batch": np.repeat(np.arange(len(index)), node_counts),
        "ptr": np.concatenate([[0], np.cumsum(node_counts)]),
    }


def collate_windows(arrays: GraphArrays, index) -> Batch:
    """The windows ``index`` (in that order) as one PyG `Batch` of the `collate_arrays` arrays."""
    return Batch(**{name: torch.from_numpy(values) for name, values in collate_arrays(arrays, index).items()})


class WindowBatches(IterableDataset):
    """Iterable of `collate_windows` batches over a store, optionally shuffled each epoch.

    Use as the ``dataset`` of a ``torch.utils.data.DataLoader(..., batch_size=None)`` (with
    several workers each one yields its share of the batches), or iterate it directly. Each batch
    carries ``window_index`` (B,): the store positions of its windows, so what was computed once per
    window (a frozen teacher's outputs) can be looked up for it.

    Args:
        arrays: the store. indices: which windows (default: all). batch_size: windows per batch.
        shuffle: new random order each pass, from ``generator``. transform: applied to each batch.
    """

    def __init__(self, arrays: GraphArrays, batch_size: int, indices=None, shuffle: bool = False,
                 generator: torch.Generator | None = None, transform=None) -> None:
        super().__init__()
        self.arrays = arrays
        self.indices = np.arange(len(arrays)) if indices is None else np.asarray(indices, dtype=np.int64)
        self.batch_size, self.shuffle, self.generator, self.transform = batch_size, shuffle, generator, transform

    def __len__(self) -> int:
        return -(-len(self.indices) // self.batch_size)

    def __iter__(self):
        order = self.indices
        if self.shuffle:
            order = order[torch.randperm(len(order), generator=self.generator).numpy()]
        worker = get_worker_info()
        starts = range(0, len(order), self.batch_size)
        if worker is not None:
            starts = starts[worker.id :: worker.num_workers]
        for start in starts:
            index = order[start : start + self.batch_size]
            batch = collate_windows(self.arrays, index)
            batch.window_index = torch.from_numpy(np.ascontiguousarray(index, dtype=np.int64))
            yield self.transform(batch) if self.transform is not None else batch
