"""`StreamingDetector`: frames in as they come, window graphs every S frames, scored in micro-batches.

The detector keeps the frames from the next window's first frame on (at most W - 1 + one chunk),
so window k always covers frames ``k*S .. k*S + W - 1`` of the stream, exactly the windows the
offline cache builds from the same file. Graphs come from the domain adapter with the fit of the
training split (`kdgat_data.domains`: the one feature implementation, not a copy), inputs from
`ConsecutiveInputs` (the training collation and self-loops, once per chunk), scores from any `WindowScorer` form
(eager, TorchScript, ONNX), and the run's validation threshold decides. Every window above it is
an alert: time, first and last frame, score, threshold, and the IDs of the nodes with the largest
node scores (attention for a GAT, reconstruction error for a VGAE or fusion).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from kdgat_data.domains import FittedDomain, adapter_for
from kdgat_data.domains.automotive.frames import FrameTable

from kdgat_train.deployment.deployment_manifest import DeploymentManifest
from kdgat_train.deployment.scorer_inputs import ConsecutiveInputs


def join_frames(first: FrameTable | None, second: FrameTable) -> FrameTable:
    """``first`` then ``second`` as one table (attack-type names of the first; the stream is one source)."""
    if first is None or len(first) == 0:
        return second
    return FrameTable(
        np.concatenate([first.timestamp, second.timestamp]), np.concatenate([first.can_id, second.can_id]),
        np.concatenate([first.dlc, second.dlc]), np.concatenate([first.payload, second.payload]),
        np.concatenate([first.label, second.label]), np.concatenate([first.attack_type, second.attack_type]),
        first.attack_types if len(first.attack_types) >= len(second.attack_types) else second.attack_types,
        first.labelled and second.labelled, first.source,
    )


@dataclass
class ScoredWindows:
    """Every window scored so far (for the replay report). Shapes: each (G,)."""

    window_start: list[np.ndarray] = field(default_factory=list)
    end_time: list[np.ndarray] = field(default_factory=list)
    score: list[np.ndarray] = field(default_factory=list)
    label: list[np.ndarray] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        def joined(parts, dtype):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        return {"window_start": joined(self.window_start, np.int64), "end_time": joined(self.end_time, np.float64),
                "score": joined(self.score, np.float64), "y": joined(self.label, np.uint8)}


class StreamingDetector:
    """Score a frame stream window by window with an exported (or eager) scorer.

    Args:
        scorer: callable ``inputs -> (score (G,), node_score (N,))`` (`kdgat_models.scorer_export`).
        manifest: the export's `DeploymentManifest` (W, S, the domain fit, the threshold).
        batch_windows: windows per scorer call (micro-batch).
        top_ids: how many node IDs an alert names.
        keep_windows: keep every window's score and label (for the replay report).
        stride: S, default the manifest's (the run's); W always stays the run's.
    """

    def __init__(self, *, scorer, manifest: DeploymentManifest, batch_windows: int = 64, top_ids: int = 3,
                 keep_windows: bool = False, stride: int | None = None) -> None:
        if manifest.domain != "automotive":
            raise ValueError(f"kdgat-detect streams CAN frames; this export is of the {manifest.domain} domain")
        self.scorer, self.manifest = scorer, manifest
        self.adapter = adapter_for(manifest.domain)
        self.fitted = FittedDomain(vocabulary=list(manifest.vocabulary), state=dict(manifest.fitted_state))
        self.window, self.stride = manifest.window, stride or manifest.stride
        self.threshold = manifest.threshold
        self.batch_windows, self.top_ids = batch_windows, top_ids
        self.windows = ScoredWindows() if keep_windows else None
        self._pending: FrameTable | None = None  # frames from the next window's first frame on
        self._pending_first = 0  # stream index of the first pending frame
        self._skip = 0  # frames still to drop before the next window starts (S > W)
        self.known_ids = np.asarray(sorted(manifest.vocabulary), np.int64)  # training's IDs (empty: none recorded)
        self.unknown_frames = 0  # frames whose ID training never saw
        self._seen_known = np.zeros(len(self.known_ids), bool)  # training's IDs that the stream carried
        self.frames = 0
        self.windows_scored = 0
        self.alerts = 0
        self.latencies_ms: list[float] = []

    @property
    def unknown_share(self) -> float:
        """Share of the frames so far whose CAN ID training never saw (0 before any frame)."""
        return self.unknown_frames / self.frames if self.frames else 0.0

    @property
    def known_coverage(self) -> float:
        """Share of training's IDs the stream has carried so far (1 without a recorded vocabulary). An attack
        that floods or fuzzes IDs leaves a vehicle's own IDs on the bus; another vehicle does not."""
        return float(self._seen_known.mean()) if len(self.known_ids) else 1.0

    def known_coverage_of(self, can_ids: np.ndarray) -> float:
        return float(np.isin(self.known_ids, can_ids).mean()) if len(self.known_ids) else 1.0

    def unknown_share_of(self, can_ids: np.ndarray) -> float:
        """Share of ``can_ids`` that training never saw (0 for none, or without a recorded vocabulary)."""
        if not len(can_ids) or not len(self.known_ids):
            return 0.0
        return float((~np.isin(can_ids, self.known_ids)).mean())

    def feed(self, chunk: FrameTable, received_at: float | None = None) -> list[dict]:
        """Add the frames of ``chunk`` (received at ``received_at``, perf_counter seconds); returns the
        alerts of every window it completes."""
        received_at = time.perf_counter() if received_at is None else received_at
        self.frames += len(chunk)
        if len(self.known_ids):
            self.unknown_frames += int((~np.isin(chunk.can_id, self.known_ids)).sum())
            self._seen_known |= np.isin(self.known_ids, chunk.can_id)
        if self._skip:  # frames between the last window's end and the next window's start (S > W)
            dropped = min(self._skip, len(chunk))
            chunk = chunk.slice(dropped, len(chunk))
            self._skip -= dropped
            self._pending_first += dropped
        pending = join_frames(self._pending, chunk)
        alerts: list[dict] = []
        if len(pending) >= self.window:
            alerts = self._score(pending)
            built = (len(pending) - self.window) // self.stride + 1
            consumed = built * self.stride
            kept = min(consumed, len(pending))
            self._skip = consumed - kept
            pending = pending.slice(kept, len(pending))
            self._pending_first += kept
            self.latencies_ms.append((time.perf_counter() - received_at) * 1000)
        self._pending = pending
        return alerts

    def _score(self, frames: FrameTable) -> list[dict]:
        arrays = self.adapter.graphs(frames, self.fitted, frames.attack_type, self.window, self.stride, 0)
        inputs = ConsecutiveInputs(arrays=arrays)  # collated and given self-loops once per chunk
        alerts = []
        for start in range(0, len(arrays), self.batch_windows):
            index = np.arange(start, min(start + self.batch_windows, len(arrays)))
            score, node_score = self.scorer(inputs.inputs(start, index[-1] + 1))
            score = np.asarray(score, np.float64)
            flagged = np.flatnonzero(score > self.threshold)
            if len(flagged):
                alerts += self._alerts(frames, arrays, index[flagged], score[flagged], np.asarray(node_score), index[0])
            if self.windows is not None:
                self.windows.window_start.append(np.asarray(arrays.window_start)[index] + self._pending_first)
                self.windows.end_time.append(np.asarray(arrays.end_time)[index])
                self.windows.score.append(score)
                self.windows.label.append(np.asarray(arrays.y)[index])
        self.windows_scored += len(arrays)
        self.alerts += len(alerts)
        return alerts

    def _alerts(self, frames: FrameTable, arrays, windows: np.ndarray, scores: np.ndarray, node_score: np.ndarray,
                first: int) -> list[dict]:
        """The alerts of the flagged ``windows`` (indices into ``arrays``) of one micro-batch whose first
        window is ``first``; ``node_score`` holds that micro-batch's nodes. A window's nodes are its
        distinct IDs in ID order, so node k of window g is the k-th smallest distinct ID of its frames.

        Shapes: windows, scores (A,). node_score (nodes of the micro-batch,).
        """
        starts = np.asarray(arrays.window_start)[windows]  # (A,)
        ids = np.sort(frames.can_id[starts[:, None] + np.arange(self.window)], axis=1)  # (A, W)
        distinct = np.ones(ids.shape, bool)
        distinct[:, 1:] = ids[:, 1:] != ids[:, :-1]
        node_ptr = np.asarray(arrays.node_ptr)
        counts = node_ptr[windows + 1] - node_ptr[windows]  # (A,) nodes per window
        if not np.array_equal(distinct.sum(axis=1), counts):
            raise RuntimeError("alerts: a window's distinct IDs do not match its graph's nodes")
        rows = np.repeat(np.arange(len(windows)), counts)
        local = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)  # node k of its window
        width = int(counts.max())
        node_ids = np.zeros((len(windows), width), ids.dtype)  # (A, n): the ID of node k
        node_ids[rows, local] = ids[distinct]
        padded = np.full((len(windows), width), -np.inf)  # (A, n): node scores, -inf past a window's nodes
        padded[rows, local] = node_score[np.repeat(node_ptr[windows] - node_ptr[first], counts) + local]
        top = np.argsort(-padded, axis=1, kind="stable")[:, : self.top_ids]  # (A, k) the largest first
        top_ids = [[f"0x{i:03X}" for i in row] for row in np.take_along_axis(node_ids, top, 1).tolist()]
        top_scores = np.round(np.take_along_axis(padded, top, 1), 6).tolist()
        end_time = np.asarray(arrays.end_time)[windows].tolist()
        first_frame = (starts + self._pending_first).tolist()
        return [
            {"time": end_time[a], "first_frame": first_frame[a], "last_frame": first_frame[a] + self.window - 1,
             "score": score, "threshold": self.threshold,
             # a window with fewer nodes than top_ids names them all
             "top_ids": top_ids[a][:count], "top_node_scores": top_scores[a][:count]}
            for a, (score, count) in enumerate(zip(np.asarray(scores, np.float64).tolist(), counts.tolist(), strict=True))
        ]
