"""The inputs of a `kdgat_models.window_scorer.WindowScorer` from collated window graphs.

The same collation and the same self-loop rule as training (`kdgat_data.batching.collate_arrays`, which
`collate_windows` wraps, and `kdgat_models.self_loops.ensure_self_loops`), as numpy arrays keyed by
`INPUT_NAMES`; no PyG `Batch` is built (at S=1 that was 40 % of the cost of the inputs).
`ConsecutiveInputs` serves the streaming detector: the windows of one chunk are collated and given their
self-loops once, and each micro-batch is a slice of that (the same arrays as `scorer_inputs`).
"""

from __future__ import annotations

import numpy as np
import torch
from kdgat_data.batching import collate_arrays
from kdgat_models.self_loops import ensure_self_loops
from kdgat_models.window_scorer import INPUT_NAMES


def scorer_inputs(arrays, index) -> dict[str, np.ndarray]:
    """The windows ``index`` of ``arrays`` (`GraphArrays`) as scorer inputs.

    Shapes: x (N, F) float32, node_id (N,) int64, edge_index (2, E) int64 with self-loops,
    edge_attr (E, F_e) float32, batch (N,) int64, node_ptr (G + 1,) int64.
    """
    batch = collate_arrays(arrays, index)
    edge_index, edge_attr = ensure_self_loops(torch.from_numpy(batch["edge_index"]), torch.from_numpy(batch["edge_attr"]),
                                              len(batch["x"]))
    inputs = {**batch, "edge_index": edge_index.numpy(), "edge_attr": edge_attr.numpy(), "node_ptr": batch["ptr"]}
    return {name: np.ascontiguousarray(inputs[name]) for name in INPUT_NAMES}


class ConsecutiveInputs:
    """Scorer inputs of any run of consecutive windows of ``arrays``, from one collation of them all.

    ``inputs(start, stop)`` equals ``scorer_inputs(arrays, range(start, stop))`` array for array: a
    micro-batch's edges are its windows' edges, then the self-loops of its nodes that had none (in node
    order), exactly as `ensure_self_loops` appends them to a batch; a self-loop's features depend only on
    its node's in-edges, which never cross windows.

    Args:
        arrays: `GraphArrays` of the windows (a chunk of a stream).
    """

    def __init__(self, *, arrays) -> None:
        self.node_ptr = np.asarray(arrays.node_ptr, np.int64)  # (G + 1,)
        self.edge_ptr = np.asarray(arrays.edge_ptr, np.int64)  # (G + 1,)
        node_counts, edge_counts = np.diff(self.node_ptr), np.diff(self.edge_ptr)
        # what `collate_arrays` gives for all the windows in order, without copying what it would not change
        self.x = np.asarray(arrays.x)  # (N, F)
        self.node_id = np.asarray(arrays.node_id).astype(np.int64)  # (N,)
        self.edge_index = np.asarray(arrays.edge_index).astype(np.int64) + np.repeat(self.node_ptr[:-1], edge_counts)  # (2, E)
        self.edge_attr = np.asarray(arrays.edge_attr)  # (E, F_e)
        self.graph_of_node = np.repeat(np.arange(len(node_counts)), node_counts)  # (N,)
        edge_index, edge_attr = ensure_self_loops(torch.from_numpy(self.edge_index), torch.from_numpy(self.edge_attr),
                                                  len(self.x))
        edges = self.edge_index.shape[1]
        self.loop_node = edge_index[0, edges:].numpy()  # (M,) ascending: the nodes given a self-loop
        self.loop_attr = edge_attr[edges:].numpy()  # (M, F_e)

    def inputs(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """The scorer inputs of windows ``start .. stop - 1``. Shapes as `scorer_inputs`."""
        first_node, last_node = int(self.node_ptr[start]), int(self.node_ptr[stop])
        first_edge, last_edge = int(self.edge_ptr[start]), int(self.edge_ptr[stop])
        first_loop, last_loop = np.searchsorted(self.loop_node, [first_node, last_node])
        loops = self.loop_node[first_loop:last_loop]
        edge_index = np.concatenate([self.edge_index[:, first_edge:last_edge], np.broadcast_to(loops, (2, len(loops)))],
                                    axis=1) - first_node
        return {
            "x": self.x[first_node:last_node],
            "node_id": self.node_id[first_node:last_node],
            "edge_index": edge_index,
            "edge_attr": np.concatenate([self.edge_attr[first_edge:last_edge], self.loop_attr[first_loop:last_loop]]),
            "batch": self.graph_of_node[first_node:last_node] - start,
            "node_ptr": self.node_ptr[start : stop + 1] - first_node,
        }
