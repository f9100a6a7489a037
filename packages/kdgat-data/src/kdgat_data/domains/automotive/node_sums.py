"""Per-node sums of payload bytes and attack labels: two strategies with the same result.

A node of a window is the run of its ID's frames inside the window. Its payload sum and its
attack flag can be computed

- by reducing over its frame slots (`SlotReduction`): W/S slot reads per frame, the fastest when
  windows barely overlap (S close to W), since every frame is then read about once;
- or as a difference of prefix sums over the frames ordered by ID (`PrefixDifference`): two
  lookups per node whatever the overlap, after an O(N) preparation; the fastest for S << W
  (streaming, S=1), where slot reductions would read every frame W/S times.
"""

from __future__ import annotations

import sys

import numpy as np


class SlotReduction:
    """Sums over each node's sorted slots with segment reductions.

    Args:
        payload: (N, 8) uint8. label: (N,) uint8.
    """

    def __init__(self, payload: np.ndarray, label: np.ndarray, window: int) -> None:
        self.payload = np.ascontiguousarray(payload, np.uint8)
        self.label = label
        self.window = window

    def __call__(self, starts, sorted_pos, seg, first_frame, last_frame, need_labels: bool):
        """Returns ``(byte_sums (n, 8) float32, node_attack (n,) bool or None)``."""
        frame_of_slot = (starts[:, None] + sorted_pos).ravel()  # (M*W,) frame of each sorted slot
        node_attack = np.maximum.reduceat(self.label[frame_of_slot], seg) > 0 if need_labels else None
        if self.window <= 257 and sys.byteorder == "little":
            # Each payload as one uint64 split into two words with four bytes in 16-bit lanes:
            # one 1-D segment sum adds four bytes at once, without carries between lanes
            # (at most 257 * 255 < 2**16 per lane).
            packed = self.payload.view(np.uint64).ravel()[frame_of_slot]
            mask = np.uint64(0x00FF00FF00FF00FF)
            sums = np.empty((len(seg), 8), np.float32)
            sums[:, 0::2] = np.add.reduceat(packed & mask, seg).view(np.uint16).reshape(-1, 4)
            sums[:, 1::2] = np.add.reduceat((packed >> np.uint64(8)) & mask, seg).view(np.uint16).reshape(-1, 4)
            return sums, node_attack
        return np.add.reduceat(self.payload[frame_of_slot].astype(np.float32), seg, axis=0), node_attack


class PrefixDifference:
    """Sums as ``prefix[rank[last] + 1] - prefix[rank[first]]`` over frames ordered by ID.

    Frames ordered by (ID, time) put the frames of one node of one window in a contiguous run,
    whose first and last member are the node's first and last frame in the window.

    Args:
        code: (N,) node code per frame (equal for equal IDs). payload: (N, 8) uint8. label: (N,).
    """

    def __init__(self, code: np.ndarray, payload: np.ndarray, label: np.ndarray) -> None:
        n = len(code)
        by_id = np.argsort(code.astype(np.uint16) if code.max(initial=0) < 2**16 else code, kind="stable")
        self.rank = np.empty(n, np.int64)
        self.rank[by_id] = np.arange(n)
        sum_type = np.int32 if n * 255 < 2**31 else np.int64
        self.payload_prefix = np.zeros((n + 1, 8), sum_type)
        np.cumsum(np.asarray(payload, np.uint8)[by_id], axis=0, dtype=sum_type, out=self.payload_prefix[1:])
        self.label_prefix = np.concatenate([[0], np.cumsum(label[by_id], dtype=np.int64)])

    def __call__(self, starts, sorted_pos, seg, first_frame, last_frame, need_labels: bool):
        first, end = self.rank[first_frame], self.rank[last_frame] + 1
        sums = (self.payload_prefix[end] - self.payload_prefix[first]).astype(np.float32)
        node_attack = self.label_prefix[end] > self.label_prefix[first] if need_labels else None
        return sums, node_attack
