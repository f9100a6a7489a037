"""Window -> graph, vectorised over all windows of a file (no per-window Python loop).

For each window of W consecutive frames (stride S): nodes are the distinct CAN IDs, ordered by
ID; a directed edge joins the IDs of frame i and frame i+1 (W - 1 transitions, de-duplicated).
Feature definitions are in `features`.

How it stays vectorised: each window is a row of an (M, W) matrix. Sorting every row by
(ID, position) groups a node's frames into one contiguous run, so node statistics are segment
reductions (`np.add.reduceat`); sorting the transitions by (src, dst, position) does the same
for edges. numpy sorts short rows with SIMD kernels, so this is a few passes over memory.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kdgat_data.domains.automotive.node_dynamics import NodeDynamics
from kdgat_data.domains.automotive.node_sums import PrefixDifference, SlotReduction
from kdgat_data.graph_arrays import GraphArrays

_SLOTS_PER_CHUNK = 65_536  # frame slots (windows x W) per chunk: intermediates stay in cache
_SLOTS_PER_BLOCK = 1 << 25  # slots whose outputs are preallocated together (bounds virtual memory)


def window_starts(n_frames: int, window: int, stride: int) -> np.ndarray:
    """First-frame index of every full window; a trailing partial window is dropped."""
    if window < 2:
        raise ValueError(f"window must be at least 2 frames, got {window}")
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    if n_frames < window:
        return np.zeros(0, np.int64)
    return np.arange(0, n_frames - window + 1, stride, dtype=np.int64)


def build_window_graphs(
    can_id: np.ndarray,
    payload: np.ndarray,
    label: np.ndarray,
    attack_type: np.ndarray,
    id_index: np.ndarray,
    *,
    window: int,
    stride: int,
    source: int = 0,
    timestamp: np.ndarray | None = None,
    dynamics: NodeDynamics | None = None,
) -> GraphArrays:
    """Build every window graph of one frame sequence.

    Args:
        can_id: (N,) raw CAN IDs (node identity: two unknown IDs stay two nodes).
        payload: (N, 8) uint8 payload bytes.
        label: (N,) 0/1 attack flag per frame.
        attack_type: (N,) attack-type code per frame (0 = normal).
        id_index: (N,) vocabulary index per frame (0 = UNK), stored as the node's ``node_id``.
        window, stride: W and S.
        source: source-file index recorded per graph.
        timestamp: (N,) frame timestamps, for each window's first and last time (NaN without them).
        dynamics: per-ID timing and payload dynamics appended to the anchor's node features
            (`NodeDynamics`, the ``dynamics`` feature set); None: the anchor's 10 continuous features.

    Returns:
        `GraphArrays` with one graph per window, in window order.
    """
    starts = window_starts(len(can_id), window, stride)
    frames = _Frames.prepare(can_id, payload, label, attack_type, id_index, window, stride)
    chunk = max(1, _SLOTS_PER_CHUNK // window)
    block = max(1, _SLOTS_PER_BLOCK // window // chunk) * chunk
    blocks = []
    for b in range(0, len(starts), block):
        out = _Output(starts[b : b + block], window, 10 + (dynamics.width if dynamics else 0))
        for i in range(0, len(out.window_start), chunk):
            _build_chunk(out, i, min(i + chunk, len(out.window_start)), frames, window, dynamics)
        blocks.append(out.finish(source))
    graphs = GraphArrays.concatenate(blocks)
    return graphs.with_record_span(graphs.window_start + window, timestamp)


class _Output:
    """Output arrays of one block of windows, allocated once at their upper bounds.

    A window has at most W nodes and W - 1 edges. Chunks write straight into these arrays, so
    no per-chunk array is concatenated later; pages past the final sizes are never touched.
    """

    def __init__(self, window_start: np.ndarray, window: int, node_features: int) -> None:
        g = len(window_start)
        self.window_start, self.window = window_start, window
        self.x = np.empty((g * window, node_features), np.float32)
        self.node_id = np.empty(g * window, np.int32)
        self.node_y = np.empty(g * window, np.uint8)
        self.edge_index = np.empty((2, g * (window - 1)), np.int32)
        self.edge_attr = np.empty((g * (window - 1), 11), np.float32)
        self.node_ptr = np.zeros(g + 1, np.int64)
        self.edge_ptr = np.zeros(g + 1, np.int64)
        self.y = np.empty(g, np.uint8)
        self.attack_type = np.empty(g, np.int16)

    def finish(self, source: int) -> GraphArrays:
        n, e = int(self.node_ptr[-1]), int(self.edge_ptr[-1])
        return GraphArrays(
            x=self.x[:n], node_id=self.node_id[:n], node_y=self.node_y[:n],
            edge_index=self.edge_index[:, :e], edge_attr=self.edge_attr[:e],
            node_ptr=self.node_ptr, edge_ptr=self.edge_ptr, y=self.y, attack_type=self.attack_type,
            source=np.full(len(self.y), source, np.int32), window_start=self.window_start,
            window_stop=self.window_start + self.window, start_time=np.full(len(self.y), np.nan),
            end_time=np.full(len(self.y), np.nan),
        )


def _compact_codes(can_id: np.ndarray, window: int) -> np.ndarray:
    """Per-frame int32 node codes whose order is the ID order and with ``code * W`` < 2**31.

    Raw IDs are used as they are when small enough (11-bit CAN IDs always are); otherwise
    they are ranked with ``np.unique``.
    """
    if len(can_id) == 0 or (int(can_id.max()) + 1) * window < 2**31:
        return can_id.astype(np.int32)
    return np.unique(can_id, return_inverse=True)[1].astype(np.int32).ravel()


class _Frames(NamedTuple):
    code: np.ndarray  # (N,) int32 node code (ID order)
    label: np.ndarray  # (N,) uint8
    attack_type: np.ndarray  # (N,) int16
    id_index: np.ndarray  # (N,) int32
    label_prefix: np.ndarray  # (N + 1,) cumulative attack labels in time order
    node_sums: SlotReduction | PrefixDifference

    @classmethod
    def prepare(cls, can_id, payload, label, attack_type, id_index, window: int, stride: int) -> _Frames:
        code = _compact_codes(np.asarray(can_id), window)
        label = np.ascontiguousarray(label, np.uint8)
        overlapping = stride * 2 < window
        return cls(
            code=code, label=label, attack_type=np.ascontiguousarray(attack_type, np.int16),
            id_index=np.ascontiguousarray(id_index, np.int32),
            label_prefix=np.concatenate([[0], np.cumsum(label, dtype=np.int64)]),
            node_sums=PrefixDifference(code, payload, label) if overlapping else SlotReduction(payload, label, window),
        )


def _segments(new_segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat start and end (inclusive) index of each run marked by ``new_segment`` (M, L)."""
    start = np.flatnonzero(new_segment)
    end = np.empty_like(start)
    end[:-1] = start[1:] - 1
    end[-1:] = new_segment.size - 1
    return start, end


def _runs(sorted_rows: np.ndarray, group: np.ndarray) -> np.ndarray:
    """(M, L) bool: True where ``group`` changes along each row (and at column 0)."""
    new = np.empty(sorted_rows.shape, bool)
    new[:, 0] = True
    np.not_equal(group[:, 1:], group[:, :-1], out=new[:, 1:])
    return new


def _build_chunk(out: _Output, g0: int, g1: int, frames: _Frames, w: int, dynamics: NodeDynamics | None) -> None:
    """Build windows ``g0:g1`` of the block into ``out``."""
    starts = out.window_start[g0:g1]
    m = len(starts)
    positions = np.arange(w, dtype=np.int32)
    frame = starts[:, None] + positions  # (M, W) frame index of each slot
    # ---- nodes: sort each window's slots by (ID code, position); a node is a run of one code ----
    node_key = frames.code[frame] * w + positions  # fits int32 (see _compact_codes)
    node_key.sort(axis=1)
    sorted_code = node_key // w
    sorted_pos = (node_key - sorted_code * w).astype(np.int32)  # (M, W)
    new_node = _runs(node_key, sorted_code)
    seg, seg_end = _segments(new_node)  # (n,) flat first / last sorted slot of each node
    n = len(seg)
    nodes_per_graph = new_node.sum(axis=1)
    node_ptr = np.zeros(m + 1, np.int64)
    np.cumsum(nodes_per_graph, out=node_ptr[1:])
    n0 = int(out.node_ptr[g0])
    out.node_ptr[g0 + 1 : g1 + 1] = node_ptr[1:] + n0
    node_of_sorted = (np.cumsum(new_node, axis=1, dtype=np.int32) - 1)  # (M, W) local node
    node_of_pos = np.empty((m, w), np.int32)  # (M, W) local node of each slot in time order
    node_of_pos.ravel()[(sorted_pos + (np.arange(m, dtype=np.int32) * w)[:, None]).ravel()] = (
        node_of_sorted.ravel()
    )

    flat_pos = sorted_pos.ravel()
    counts = (seg_end - seg + 1).astype(np.int32)  # (n,) frames per node
    last_pos = flat_pos[seg_end]  # positions ascend within a node's run
    graph_of_node = np.repeat(np.arange(m), nodes_per_graph)
    first_frame = starts[graph_of_node] + flat_pos[seg]  # (n,) the node's first and last frame
    last_frame = starts[graph_of_node] + last_pos
    count_min = np.minimum.reduceat(counts, node_ptr[:-1])[graph_of_node]
    count_range = (np.maximum.reduceat(counts, node_ptr[:-1])[graph_of_node] - count_min).astype(np.float32)

    # ---- labels: a graph (node) is an attack if any of its frames is; attack type = most frequent ----
    y = frames.label_prefix[starts + w] > frames.label_prefix[starts]
    attacked = np.flatnonzero(y)
    byte_sums, node_attack = frames.node_sums(starts, sorted_pos, seg, first_frame, last_frame, len(attacked) > 0)
    out.y[g0:g1] = y
    out.node_y[n0 : n0 + n] = 0 if node_attack is None else node_attack
    out.attack_type[g0:g1] = 0
    if len(attacked):
        n_types = int(frames.attack_type.max()) + 1
        window_types = np.where(frames.label[frame[attacked]] == 1, frames.attack_type[frame[attacked]], 0)
        keys = (np.arange(len(attacked)) * n_types)[:, None] + window_types  # (A, W) row * types + type
        per_type = np.bincount(keys.ravel(), minlength=len(attacked) * n_types).reshape(len(attacked), n_types)
        per_type[:, 0] = 0
        out.attack_type[g0 + attacked] = per_type.argmax(axis=1)

    x = out.x[n0 : n0 + n]
    np.multiply(byte_sums, (1.0 / (255.0 * counts))[:, None], out=x[:, :8], casting="unsafe")
    x[:, 8] = np.divide(counts - count_min, count_range, out=np.zeros(n, np.float32), where=count_range > 0)
    x[:, 9] = last_pos * np.float32(1.0 / (w - 1))
    if dynamics is not None:
        x[:, 10:] = dynamics(starts[:, None] + sorted_pos, new_node, seg, seg_end, counts, starts, starts + (w - 1),
                             graph_of_node)
    out.node_id[n0 : n0 + n] = frames.id_index[first_frame]
    # transitions touching a node: each of its frames is the source of one transition and the
    # target of another, except at the window's first and last position
    degree = 2 * counts - (flat_pos[seg] == 0) - (last_pos == w - 1)

    # ---- edges: sort each window's transitions by (unordered pair, direction, position) ----
    # An edge is a run of equal (pair, direction); an edge and its reverse become neighbouring
    # runs of the same unordered pair, so "reverse exists" is a comparison with the next run.
    t = w - 1
    src_of_t, dst_of_t = node_of_pos[:, :-1], node_of_pos[:, 1:]  # (M, W-1) local nodes
    low, high = np.minimum(src_of_t, dst_of_t), np.maximum(src_of_t, dst_of_t)
    direction = src_of_t > dst_of_t
    edge_key = ((low * w + high) * 2 + direction).astype(np.int64 if 2 * w**3 >= 2**31 else np.int32)
    edge_key = edge_key * w + positions[:t]
    edge_key.sort(axis=1)
    run_key = edge_key // w  # (M, W-1) pair * 2 + direction
    t_pos = (edge_key - run_key * w).astype(np.int32)
    new_edge = _runs(edge_key, run_key)
    eseg, eseg_end = _segments(new_edge)
    e = len(eseg)
    edges_per_graph = new_edge.sum(axis=1)
    edge_ptr = np.zeros(m + 1, np.int64)
    np.cumsum(edges_per_graph, out=edge_ptr[1:])

    flat_t = t_pos.ravel()
    first_t = flat_t[eseg].astype(np.float32)
    last_t = flat_t[eseg_end].astype(np.float32)
    e_count = (eseg_end - eseg + 1).astype(np.float32)
    n_gaps = e_count - 1
    has_gaps = n_gaps > 0
    safe_gaps = np.maximum(n_gaps, 1)
    gap_mean = (last_t - first_t).astype(np.float64) / safe_gaps  # consecutive gaps telescope to last - first
    squared_gaps = np.zeros((m, t), np.int32)  # gap to the previous transition of the same edge
    gap = t_pos[:, 1:] - t_pos[:, :-1]
    gap *= ~new_edge[:, 1:]
    np.multiply(gap, gap, out=squared_gaps[:, 1:])
    gap_sq_mean = np.add.reduceat(squared_gaps.ravel(), eseg) / safe_gaps  # float64: no cancellation
    gap_std = np.sqrt(np.maximum(gap_sq_mean - gap_mean * gap_mean, 0.0))

    edge_run = run_key.ravel()[eseg]  # (e,) pair * 2 + direction
    edge_direction = (edge_run & 1).astype(bool)
    unordered = edge_run >> 1
    low, high = unordered // w, unordered % w
    src = np.where(edge_direction, high, low)
    dst = np.where(edge_direction, low, high)
    graph_of_edge = np.repeat(np.arange(m, dtype=np.int64), edges_per_graph)
    global_pair = graph_of_edge * (w * w) + unordered
    both_directions = np.zeros(e, bool)
    np.equal(global_pair[1:], global_pair[:-1], out=both_directions[1:])  # same pair as the run before
    reverse_exists = both_directions | (low == high)
    reverse_exists[:-1] |= both_directions[1:]
    node_base = node_ptr[graph_of_edge]
    src_degree = degree[src + node_base].astype(np.float32)
    dst_degree = degree[dst + node_base].astype(np.float32)

    e0 = int(out.edge_ptr[g0])
    out.edge_ptr[g0 + 1 : g1 + 1] = edge_ptr[1:] + e0
    out.edge_index[0, e0 : e0 + e] = src
    out.edge_index[1, e0 : e0 + e] = dst
    edge_attr = out.edge_attr[e0 : e0 + e]
    edge_attr[:, 0] = e_count
    edge_attr[:, 1] = e_count * np.float32(1.0 / w)
    edge_attr[:, 2] = gap_mean
    edge_attr[:, 3] = gap_std
    edge_attr[:, 4] = np.where(has_gaps, 1.0 / (1.0 + gap_std), 0.0)
    edge_attr[:, 5] = first_t * np.float32(1.0 / w)
    edge_attr[:, 6] = last_t * np.float32(1.0 / w)
    edge_attr[:, 7] = (last_t - first_t) * np.float32(1.0 / w)
    edge_attr[:, 8] = reverse_exists
    edge_attr[:, 9] = src_degree * dst_degree
    edge_attr[:, 10] = src_degree / dst_degree

