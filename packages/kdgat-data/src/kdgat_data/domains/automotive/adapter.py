"""The CAN bus domain: frames -> windows of W frames -> graphs of CAN IDs (DESIGN.md §2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.automotive.graph_features import (
    DYNAMICS_FEATURE_VERSION,
    DYNAMICS_FEATURES,
    EDGE_FEATURES,
    FEATURE_VERSION,
    NODE_FEATURES,
)
from kdgat_data.domains.automotive.node_dynamics import NodeDynamics
from kdgat_data.domains.automotive.readers.dispatch import ReaderOptions, read_frames
from kdgat_data.domains.automotive.window_graphs import build_window_graphs
from kdgat_data.domains.base import FeatureSet, FittedDomain, fitted_feature_set, register_adapter
from kdgat_data.graph_arrays import GraphArrays
from kdgat_data.vocabulary import Vocabulary


class AutomotiveAdapter:
    """CAN frames (any reader of `kdgat_data.readers`); node = CAN ID, vocabulary from training IDs."""

    domain = "automotive"
    feature_version = FEATURE_VERSION
    node_features = NODE_FEATURES
    edge_features = EDGE_FEATURES
    has_vocabulary = True  # CAN IDs
    record_words = ("frames", "IDs")
    feature_sets = {  # dataset_config.features; the first is the default
        "anchor": FeatureSet("anchor", FEATURE_VERSION, NODE_FEATURES, EDGE_FEATURES),
        "dynamics": FeatureSet("dynamics", DYNAMICS_FEATURE_VERSION, DYNAMICS_FEATURES, EDGE_FEATURES),
    }

    def reader_options(self, entry, on_bad_row, root: Path | None = None) -> ReaderOptions:
        """The entry's format, column mapping, label rule, time-order policy and per-file readers."""
        return ReaderOptions(format=entry.format, mapping=entry.mapping, attack_ids=entry.attack_ids,
                             on_bad_row=on_bad_row, time_order=entry.time_order, files=entry.readers)

    def generate_synthetic(self, root: Path, spec) -> None:
        """``spec.frames`` frames of synthetic vehicle ``spec.vehicle`` with its attack captures."""
        from kdgat_data.domains.automotive.synthetic.attacks import ATTACKS
        from kdgat_data.domains.automotive.synthetic.generator import generate_dataset

        generate_dataset(root, frames=spec.frames, seed=spec.seed, attacks=spec.attacks or ATTACKS, overwrite=True,
                         vehicle=spec.vehicle)

    def read(self, path: Path, options: ReaderOptions):
        return read_frames(path, options)

    def fit(self, training_heads: list[FrameTable], options=None) -> FittedDomain:
        """The ID vocabulary and, over normal training frames, each ID's inter-arrival time (mean and
        std), payload byte mean and std and payload change rate (share of its consecutive frames whose
        payload differs), and the most frequent IDs' shares: for the baselines' statistics and the
        ``dynamics`` node features."""
        vocabulary = Vocabulary.from_training(head.can_id for head in training_heads)
        size = len(vocabulary.to_list()) + 1
        sums, squares, counts = np.zeros(size), np.zeros(size), np.zeros(size)
        frames, changes = np.zeros(size), np.zeros(size)
        byte_sums, byte_squares = np.zeros((size, 8)), np.zeros((size, 8))
        for head in training_heads:
            index = vocabulary.encode(head.can_id)
            gaps = same_id_gaps(head.can_id, head.timestamp)
            normal = head.label == 0
            timed = normal & np.isfinite(gaps)
            sums += np.bincount(index[timed], gaps[timed], minlength=size)
            squares += np.bincount(index[timed], gaps[timed] ** 2, minlength=size)
            counts += np.bincount(index[timed], minlength=size)
            frames += np.bincount(index[normal], minlength=size)
            changes += np.bincount(index[timed], payload_changed(head.can_id, head.payload)[timed], minlength=size)
            payload = np.asarray(head.payload, np.float64)[normal]
            for k in range(8):
                byte_sums[:, k] += np.bincount(index[normal], payload[:, k], minlength=size)
                byte_squares[:, k] += np.bincount(index[normal], payload[:, k] ** 2, minlength=size)
        mean = sums / np.maximum(counts, 1)
        std = np.sqrt(np.maximum(squares / np.maximum(counts, 1) - mean**2, 0))
        byte_mean = byte_sums / np.maximum(frames, 1)[:, None]
        byte_std = np.sqrt(np.maximum(byte_squares / np.maximum(frames, 1)[:, None] - byte_mean**2, 0))
        top = [int(i) for i in np.argsort(-frames[1:], kind="stable")[:TOP_IDS] + 1 if frames[i] > 0]
        return FittedDomain(vocabulary=vocabulary.to_list(), state={
            "id_gap_mean": mean.tolist(), "id_gap_std": std.tolist(), "id_gap_known": (counts > 0).tolist(),
            "id_byte_mean": byte_mean.tolist(), "id_byte_std": byte_std.tolist(),
            "id_change_rate": (changes / np.maximum(counts, 1)).tolist(),
            "top_ids": top, "top_share": (frames[top] / max(frames.sum(), 1)).tolist(),
        })

    def window_statistics(self, table: FrameTable, fitted: FittedDomain, arrays: GraphArrays) -> tuple[np.ndarray, tuple[str, ...]]:
        """(G, F) statistics of each window's frames (`STATISTICS` then ``top_id_share_<k>``)."""
        return can_window_statistics(table, fitted, arrays)

    def graphs(self, table: FrameTable, fitted: FittedDomain, attack_codes: np.ndarray, window: int, stride: int,
               source: int) -> GraphArrays:
        """Window graphs with the node features of ``fitted.state["feature_set"]`` (default ``anchor``)."""
        index = Vocabulary(fitted.vocabulary).encode(table.can_id)
        dynamics = NodeDynamics(timestamp=table.timestamp, payload=table.payload, id_index=index,
                                state=fitted.state) if fitted_feature_set(self, fitted) == "dynamics" else None
        return build_window_graphs(table.can_id, table.payload, table.label, attack_codes, index, window=window,
                                   stride=stride, source=source, timestamp=table.timestamp, dynamics=dynamics)


TOP_IDS = 32  # per-window shares of the most frequent training IDs
STATISTICS = ("frames", "distinct_ids", "unseen_share", "gap_mean", "gap_std", "gap_min", "id_gap_z_mean",
              "id_gap_z_min", "id_gap_z_max_abs", "id_gap_ratio_mean", "id_entropy", "payload_entropy_mean",
              "payload_entropy_max", *(f"byte{i}_mean" for i in range(8)), *(f"byte{i}_std" for i in range(8)))
TIMING_STATISTIC = "id_gap_z_max_abs"  # the timing baseline's score


def payload_entropy(payload: np.ndarray, dlc: np.ndarray) -> np.ndarray:
    """(N,) Shannon entropy (nats) of the byte values of each frame's first DLC bytes (0 for DLC <= 1);
    random fuzzing payloads reach log(8), counters and signals stay low."""
    payload, dlc = np.asarray(payload, np.int64), np.asarray(dlc, np.int64)
    rows, positions = np.nonzero(np.arange(8)[None, :] < dlc[:, None])
    keys, counts = np.unique(rows * 256 + payload[rows, positions], return_counts=True)
    owner = keys // 256
    share = counts / dlc[owner]
    return np.bincount(owner, -share * np.log(share), minlength=len(dlc))


def payload_changed(can_id: np.ndarray, payload: np.ndarray) -> np.ndarray:
    """(N,) 1.0 where a frame's payload differs from the previous frame of the same ID (0 for an ID's
    first frame, which `same_id_gaps` marks NaN)."""
    order = np.argsort(can_id, kind="stable")
    ids, words = np.asarray(can_id)[order], np.ascontiguousarray(payload, np.uint8).view(np.uint64).ravel()[order]
    changed = np.zeros(len(ids))
    changed[order[1:]] = (ids[1:] == ids[:-1]) & (words[1:] != words[:-1])
    return changed


def same_id_gaps(can_id: np.ndarray, timestamp: np.ndarray) -> np.ndarray:
    """(N,) seconds since the previous frame of the same ID (NaN for an ID's first frame)."""
    order = np.argsort(can_id, kind="stable")
    ids, times = np.asarray(can_id)[order], np.asarray(timestamp, np.float64)[order]
    sorted_gaps = np.concatenate([[np.nan], np.where(ids[1:] == ids[:-1], np.diff(times), np.nan)]) if len(ids) else np.zeros(0)
    gaps = np.empty(len(ids))
    gaps[order] = sorted_gaps
    return gaps


def can_window_statistics(table: FrameTable, fitted: FittedDomain, arrays: GraphArrays) -> tuple[np.ndarray, tuple[str, ...]]:
    """Frame counts, distinct and unseen IDs, inter-arrival times overall and per ID relative to the ID's
    training period (z-scores), the entropy of the window's IDs and of its frames' payload bytes,
    payload byte means and spreads, and the shares of the most frequent
    training IDs relative to their training shares, per window (vectorised over all windows)."""
    from kdgat_data.window_statistics import range_entropy, range_max, range_means, range_min, range_stds

    state = fitted.state
    start, stop = np.asarray(arrays.window_start, np.int64), np.asarray(arrays.window_stop, np.int64)
    index = Vocabulary(fitted.vocabulary).encode(table.can_id)
    timestamp = np.asarray(table.timestamp, np.float64)
    gap = np.concatenate([[0.0], np.diff(timestamp)]) if len(timestamp) else np.zeros(0)
    inner = np.minimum(start + 1, stop)  # the first frame's gap reaches outside the window
    mean, std = np.asarray(state["id_gap_mean"]), np.asarray(state["id_gap_std"])
    known = np.asarray(state["id_gap_known"], bool)
    id_gaps = same_id_gaps(table.can_id, timestamp)
    usable = known[index] & np.isfinite(id_gaps) & (index > 0)
    scale = np.maximum(std, 0.05 * mean) + 1e-6  # a perfectly periodic ID must not give infinite z-scores
    z = np.where(usable, (np.nan_to_num(id_gaps) - mean[index]) / scale[index], 0.0)
    ratio = np.where(usable, np.nan_to_num(id_gaps) / np.maximum(mean[index], 1e-9), 1.0)
    payload = np.asarray(table.payload, np.float64) / 255
    top, top_share = np.asarray(state["top_ids"], np.int64), np.asarray(state["top_share"])
    one_hot = (index[:, None] == top[None, :]).astype(np.float32) if len(top) else np.zeros((len(index), 0), np.float32)
    columns = [
        (stop - start).astype(np.float64), np.diff(np.asarray(arrays.node_ptr)).astype(np.float64),
        range_means(index == 0, start, stop), range_means(gap, inner, stop), range_stds(gap, inner, stop),
        np.where(stop > inner, range_min(gap, inner, stop), 0.0), range_means(z, start, stop), range_min(z, start, stop),
        range_max(np.abs(z), start, stop), range_means(ratio, start, stop), range_entropy(table.can_id, start, stop),
    ]
    entropy = payload_entropy(table.payload, table.dlc)
    columns += [range_means(entropy, start, stop), np.where(stop > start, range_max(entropy, start, stop), 0.0)]
    stats = np.column_stack([*columns, range_means(payload, start, stop), range_stds(payload, start, stop),
                             range_means(one_hot, start, stop) - top_share[None, :]]) if len(start) else \
        np.zeros((0, len(STATISTICS) + len(top)))
    names = (*STATISTICS, *(f"top_id_share_{k}" for k in range(len(top))))
    return stats.astype(np.float32), names


ADAPTER = register_adapter(AutomotiveAdapter())
__all__ = ["ADAPTER", "AutomotiveAdapter"]
