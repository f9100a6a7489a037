"""The inputs of a `kdgat_models.window_scorer.WindowScorer` from collated window graphs.

The same collation and the same self-loop rule as training (`kdgat_data.batching.collate_windows`,
`kdgat_models.self_loops.SelfLoops`), as numpy arrays keyed by `INPUT_NAMES`.
"""

from __future__ import annotations

import numpy as np
from kdgat_data.batching import collate_windows
from kdgat_models.self_loops import ensure_self_loops
from kdgat_models.window_scorer import INPUT_NAMES


def scorer_inputs(arrays, index) -> dict[str, np.ndarray]:
    """The windows ``index`` of ``arrays`` (`GraphArrays`) as scorer inputs.

    Shapes: x (N, F) float32, node_id (N,) int64, edge_index (2, E) int64 with self-loops,
    edge_attr (E, F_e) float32, batch (N,) int64, node_ptr (G + 1,) int64.
    """
    batch = collate_windows(arrays, index)
    edge_index, edge_attr = ensure_self_loops(batch.edge_index, batch.edge_attr, batch.num_nodes)
    tensors = {"x": batch.x, "node_id": batch.node_id, "edge_index": edge_index, "edge_attr": edge_attr,
               "batch": batch.batch, "node_ptr": batch.ptr}
    return {name: np.ascontiguousarray(tensors[name].numpy()) for name in INPUT_NAMES}
