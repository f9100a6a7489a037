"""Per-node timing and payload dynamics of a CAN window, relative to each ID's training behaviour.

The anchor's node features (`graph_features.ANCHOR_NODE_FEATURES`) hold the mean payload bytes,
the occurrence count and the last position of each ID in the window: no timing per ID (only
edges between consecutive frames carry gaps) and nothing about how the payload changes. What
the attacks change is exactly that (issue 13 on ROAD: a per-ID inter-arrival rule ranked
fabrication and fuzzing almost perfectly where the graph models did not):

- fabrication and DoS add frames of an ID faster than its period: its gaps shrink, its count
  exceeds what the window's duration predicts;
- masquerade and spoofing keep the timing but change the payload: bytes far from the ID's
  training distribution, a change rate unlike the ID's (a counter that stops counting, a
  constant that starts moving), a different number of flipped bits between consecutive frames;
- suppression removes frames: fewer than expected, longer gaps.

Every feature is computed from the frames inside the window only (the same window gives the same
features offline and in the streaming detector) and from what `fit` learned on normal training
frames; an ID without training statistics (UNK) gets neutral values and is recognised by its
vocabulary index. Every feature lies in [0, 1] like the anchor's (the VGAE reconstructs node
features through a sigmoid): ratios enter as ``log2(ratio)`` clipped to [-4, 4] and mapped to
[0, 1], so "as in training" is 0.5 and a flood is 0; a signed difference d becomes (d + 1) / 2.
"""

from __future__ import annotations

import numpy as np

DYNAMICS_NODE_FEATURES = (
    "gap_mean_ratio",  # log_ratio(mean gap between the node's frames / the ID's training period)
    "gap_min_ratio",  # log_ratio(smallest such gap / period)
    "gap_spread",  # std of those gaps / period, clipped to [0, 4], / 4
    "count_ratio",  # log_ratio(frames / frames expected from the window's duration and the period)
    "change_rate",  # share of consecutive frame pairs whose payload differs
    "change_rate_deviation",  # (change_rate - the ID's training change rate + 1) / 2
    "bit_flips",  # mean Hamming distance between consecutive payloads / 64
    "byte_deviation",  # mean over frames and bytes of min(|byte - training mean| / (training std + 1), 8) / 8
)
_LOG_CLIP = 4.0


NEUTRAL = 0.5  # a ratio of 1, a deviation of 0, and every timing feature of an ID without training statistics


def log_ratio(ratio: np.ndarray) -> np.ndarray:
    """``log2(ratio)`` clipped to [-4, 4] and mapped to [0, 1] (`NEUTRAL` for "as expected")."""
    return (np.clip(np.log2(np.maximum(ratio, 2.0**-_LOG_CLIP)), -_LOG_CLIP, _LOG_CLIP) / _LOG_CLIP + 1.0) / 2.0


class NodeDynamics:
    """Prepared per-frame quantities of one frame sequence; called per chunk of windows.

    Args:
        timestamp: (N,) seconds, in time order.
        payload: (N, 8) uint8.
        id_index: (N,) vocabulary index per frame (0 = UNK).
        state: the automotive fit (`AutomotiveAdapter.fit`): ``id_gap_mean`` / ``id_gap_known``
            (period per vocabulary index), ``id_byte_mean`` / ``id_byte_std`` (V+1, 8) and
            ``id_change_rate`` (V+1,).

    Shapes:
        ``__call__`` returns (n, 8) float32, one row per node of the chunk, columns
        `DYNAMICS_NODE_FEATURES`.
    """

    width = len(DYNAMICS_NODE_FEATURES)

    def __init__(self, *, timestamp: np.ndarray, payload: np.ndarray, id_index: np.ndarray, state: dict) -> None:
        index = np.asarray(id_index, np.int64)
        payload = np.ascontiguousarray(payload, np.uint8)
        self.timestamp = np.asarray(timestamp, np.float64)
        self.packed = payload.view(np.uint64).ravel()  # one word per frame: XOR + popcount = flipped bits
        period = np.asarray(state["id_gap_mean"], np.float64)
        known = np.asarray(state["id_gap_known"], bool) & (period > 0)
        known[0] = False  # UNK has no period
        self.period = np.where(known, period, np.nan)[index]  # (N,) NaN where unknown
        self.known = known[index]
        byte_mean = np.asarray(state["id_byte_mean"], np.float64)[index]  # (N, 8)
        byte_std = np.asarray(state["id_byte_std"], np.float64)[index]
        deviation = np.minimum(np.abs(payload - byte_mean) / (byte_std + 1.0), 8.0).mean(axis=1) / 8.0
        self.deviation = np.where(self.known, deviation, 0.0)
        self.change_rate = np.asarray(state["id_change_rate"], np.float64)[index]

    def __call__(self, frame_sorted: np.ndarray, new_node: np.ndarray, seg: np.ndarray, seg_end: np.ndarray,
                 counts: np.ndarray, window_first: np.ndarray, window_last: np.ndarray,
                 graph_of_node: np.ndarray) -> np.ndarray:
        """Dynamics of every node of a chunk of M windows.

        Args:
            frame_sorted: (M, W) frame index of each slot, slots sorted by (node, time).
            new_node: (M, W) True at the first slot of each node.
            seg, seg_end: (n,) flat index of each node's first and last sorted slot.
            counts: (n,) frames per node.
            window_first, window_last: (M,) first and last frame of each window.
            graph_of_node: (n,) window of each node.
        """
        m, w = frame_sorted.shape
        t = self.timestamp[frame_sorted]  # (M, W)
        same = ~new_node[:, 1:]  # (M, W-1) slots j-1, j hold consecutive frames of one node
        pair_gap = np.where(same, np.diff(t, axis=1), np.inf)
        flips = np.bitwise_count(self.packed[frame_sorted[:, 1:]] ^ self.packed[frame_sorted[:, :-1]])
        flips = np.where(same, flips, 0).astype(np.float64)
        slot = np.zeros((m, w))  # per-slot value of the pair ending at the slot (0 at a node's first slot)
        pairs = np.maximum(counts - 1, 1).astype(np.float64)
        has_pairs = counts >= 2

        slot[:, 1:] = flips
        flip_sum = np.add.reduceat(slot.ravel(), seg)
        slot[:, 1:] = flips > 0
        changes = np.add.reduceat(slot.ravel(), seg)
        slot[:, 1:] = np.where(same, pair_gap, 0.0) ** 2
        gap_squares = np.add.reduceat(slot.ravel(), seg)
        slot[:, 0], slot[:, 1:] = np.inf, pair_gap
        gap_min = np.minimum.reduceat(slot.ravel(), seg)

        flat_t = t.ravel()
        gap_mean = (flat_t[seg_end] - flat_t[seg]) / pairs  # consecutive gaps telescope
        gap_std = np.sqrt(np.maximum(gap_squares / pairs - gap_mean**2, 0.0))
        first_frame = frame_sorted.ravel()[seg]
        period = self.period[first_frame]
        timed = has_pairs & self.known[first_frame]
        safe_period = np.where(np.isfinite(period), period, 1.0)
        duration = (self.timestamp[window_last] - self.timestamp[window_first])[graph_of_node]
        expected = np.maximum(duration / safe_period, 1.0)
        known = self.known[first_frame]

        out = np.zeros((len(seg), self.width), np.float32)
        out[:, 0] = np.where(timed, log_ratio(gap_mean / safe_period), NEUTRAL)
        out[:, 1] = np.where(timed, log_ratio(np.where(has_pairs, gap_min, 1.0) / safe_period), NEUTRAL)
        out[:, 2] = np.where(timed, np.minimum(gap_std / safe_period, _LOG_CLIP) / _LOG_CLIP, 0.0)
        out[:, 3] = np.where(known, log_ratio(counts / expected), NEUTRAL)
        rate = changes / pairs
        out[:, 4] = np.where(has_pairs, rate, 0.0)
        out[:, 5] = np.where(has_pairs & known, (rate - self.change_rate[first_frame] + 1.0) / 2.0, NEUTRAL)
        out[:, 6] = np.where(has_pairs, flip_sum / pairs / 64.0, 0.0)
        out[:, 7] = np.add.reduceat(self.deviation[frame_sorted].ravel(), seg) / counts
        return out
