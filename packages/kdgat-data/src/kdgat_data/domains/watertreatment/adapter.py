"""The water-treatment domain: plant sensor/actuator rows -> windows of W time steps -> graphs.

Node = sensor or actuator (a fixed set, so the entity vocabulary is the tag list). Node features
are window statistics of the tag's readings after z-scoring with the mean and std of NORMAL
TRAINING rows, squashed into (0, 1) by a logistic function (the VGAE reconstructs features
through a sigmoid). Edges are LEARNED from normal training data: each tag is linked (both
directions) to every tag whose Pearson correlation with it has |r| >= 0.5, and at least to its
2 most correlated tags, so no tag is isolated; the topology is fixed for every window. Edge
features: the training correlation and the window's own correlation (both mapped to [0, 1]), and
the window-mean difference |d| / (1 + |d|). Window label = any attack row in the window.

Two feature sets (``dataset_config.features``):
- ``statistics`` (``water-v2``, the default): the six statistics squashed by the logistic, which
  saturates beyond about 3 standard deviations;
- ``signal`` (``water-v3``): the same statistics mapped linearly from [-4, 4] standard deviations to
  [0, 1] (clipped there, not squashed), plus each tag's residual against the principal axes of the
  normal training readings (what the pca baseline scores, per tag: mean and max of |r| over the
  window, as |r| / (1 + |r|)), so a tag that breaks the plant's normal correlations shows on its node.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kdgat_data.domains.base import FeatureSet, FittedDomain, fitted_feature_set, register_adapter
from kdgat_data.domains.watertreatment.sensor_csv import SensorCsvOptions, read_sensor_csv
from kdgat_data.domains.watertreatment.sensors import SensorTable
from kdgat_data.graph_arrays import GraphArrays
from kdgat_data.readers.text import first_line

FEATURE_VERSION = "water-v2"  # v2: overflow-free squash, std floored at 1 % of each tag's scale
SIGNAL_FEATURE_VERSION = "water-v3"
NODE_FEATURES = ("tag_index", "mean", "std", "min", "max", "last", "slope")
SIGNAL_NODE_FEATURES = (*NODE_FEATURES, "residual_mean", "residual_max")
EDGE_FEATURES = ("training_correlation", "window_correlation", "mean_difference")
LINEAR_RANGE = 4.0  # standard deviations mapped linearly onto [0, 1] by the signal set
CORRELATION_THRESHOLD = 0.5
MIN_NEIGHBOURS = 2


def _squash(z: np.ndarray) -> np.ndarray:
    """The logistic, written with tanh so that no z overflows (``exp(-z)`` does beyond about -88)."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, np.float64)))


def learn_topology(z: np.ndarray, threshold: float = CORRELATION_THRESHOLD, min_neighbours: int = MIN_NEIGHBOURS):
    """Directed edges ``(2, E)`` and their correlations ``(E,)`` from z-scored normal rows ``(M, S)``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(z, rowvar=False), nan=0.0)
    s = corr.shape[0]
    np.fill_diagonal(corr, 0.0)
    linked = np.abs(corr) >= threshold
    strongest = np.argsort(-np.abs(corr), axis=1, kind="stable")[:, :min(min_neighbours, s - 1)]
    linked[np.repeat(np.arange(s), strongest.shape[1]), strongest.ravel()] = True
    linked |= linked.T  # both directions
    np.fill_diagonal(linked, False)
    src, dst = np.nonzero(linked)
    return np.stack([src, dst]).astype(np.int32), corr[src, dst].astype(np.float32)


READING_VARIANCE = 0.95  # share of the normal readings' variance the PCA residual statistic keeps


def principal_components(z: np.ndarray, variance: float = READING_VARIANCE) -> np.ndarray:
    """(K, S) principal axes of z-scored normal rows ``(M, S)`` keeping ``variance`` of their variance
    (about their mean, which is 0 by construction)."""
    centred = z - z.mean(0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    share = np.cumsum(singular**2) / max(float((singular**2).sum()), 1e-12)
    keep = int(np.searchsorted(share, variance) + 1)
    return axes[:min(keep, len(axes))]


def projection_residuals(z: np.ndarray, components: np.ndarray) -> np.ndarray:
    """(N, S) each z-scored reading of rows ``(N, S)`` minus its projection on the normal readings'
    principal axes ``components`` (K, S)."""
    components = np.asarray(components, np.float64).reshape(-1, z.shape[1])
    z = np.asarray(z, np.float64)
    return z - (z @ components.T) @ components


def reading_residuals(z: np.ndarray, components: np.ndarray) -> np.ndarray:
    """(N,) mean squared residual of each z-scored row ``(N, S)`` outside the normal readings' principal axes."""
    return (projection_residuals(z, components) ** 2).mean(1)


class WaterTreatmentAdapter:
    domain = "watertreatment"
    feature_version = FEATURE_VERSION
    node_features = NODE_FEATURES
    edge_features = EDGE_FEATURES
    has_vocabulary = True  # the plant's tags
    record_words = ("rows", "tags")
    feature_sets = {  # dataset_config.features; the first is the default
        "statistics": FeatureSet("statistics", FEATURE_VERSION, NODE_FEATURES, EDGE_FEATURES),
        "signal": FeatureSet("signal", SIGNAL_FEATURE_VERSION, SIGNAL_NODE_FEATURES, EDGE_FEATURES),
    }

    def reader_options(self, entry, on_bad_row, root: Path | None = None) -> SensorCsvOptions:
        """The entry's ``sensors`` label settings; its attack-window table relative to ``root``."""
        from kdgat_data.catalog import SensorColumns

        columns = entry.sensors or SensorColumns()
        windows = columns.attack_windows
        if windows and root is not None and not Path(windows).is_absolute():
            windows = str(root / windows)
        return SensorCsvOptions(columns.timestamp_column, columns.label_column, tuple(columns.attack_values),
                                tuple(columns.normal_values), windows, on_bad_row=on_bad_row)

    def generate_synthetic(self, root: Path, spec) -> None:
        """``spec.frames`` hourly steps of a synthetic plant (`synthetic_plant`)."""
        from kdgat_data.domains.watertreatment.synthetic_plant import WATER_ATTACKS, generate_water_dataset

        generate_water_dataset(root, steps=spec.frames, seed=spec.seed, attacks=spec.attacks or list(WATER_ATTACKS),
                               overwrite=True)

    def accepts(self, path: Path) -> bool:
        """Plant CSVs only: an attack-window table next to them (``#`` comments, start/end columns) is not one."""
        first = first_line(path)
        return not first.lstrip().startswith("#") and not {"start", "end"} <= {c.strip() for c in first.split(",")}

    def read(self, path: Path, options: SensorCsvOptions) -> tuple[SensorTable, object]:
        return read_sensor_csv(path, options)

    def fit(self, training_heads: list[SensorTable], options=None) -> FittedDomain:
        """Normalisation statistics and the correlation topology, from normal training rows only."""
        sensors = training_heads[0].sensors
        for head in training_heads[1:]:
            if head.sensors != sensors:
                raise ValueError(f"{head.source}: tags differ from {training_heads[0].source}; every file of a "
                                 "dataset needs the same sensor/actuator columns")
        normal = np.concatenate([head.values[head.label == 0] for head in training_heads]).astype(np.float64)
        if len(normal) < 2:
            raise ValueError("the training split has fewer than 2 normal rows to normalise on")
        mean, std = normal.mean(0), normal.std(0)
        # a near-constant training tag (a pump that never switched) must not turn a tiny change into a
        # z-score of millions: its scale is at least 1 % of the tag's magnitude or range (1.0 when all zero)
        magnitude = np.maximum(np.abs(mean), normal.max(0) - normal.min(0))
        std = np.maximum(std, 0.01 * np.where(magnitude > 0, magnitude, 100.0))
        z = (normal - mean) / std
        edge_index, correlation = learn_topology(z)
        return FittedDomain(vocabulary=list(range(len(sensors))), state={
            "sensors": list(sensors), "mean": mean.tolist(), "std": std.tolist(),
            "edge_index": edge_index.tolist(), "correlation": correlation.tolist(),
            "reading_components": principal_components(z).tolist(),
        })

    def window_statistics(self, table: SensorTable, fitted: FittedDomain, arrays: GraphArrays):
        return plant_window_statistics(table, fitted, arrays)

    def graphs(self, table: SensorTable, fitted: FittedDomain, attack_codes: np.ndarray, window: int, stride: int,
               source: int) -> GraphArrays:
        state = fitted.state
        if list(table.sensors) != state["sensors"]:
            raise ValueError(f"{table.source}: tags differ from the training files' tags")
        s = len(table.sensors)
        edge_index = np.asarray(state["edge_index"], np.int32).reshape(2, -1)
        e = edge_index.shape[1]
        if len(table) < window:
            raise ValueError(f"{table.source}: {len(table)} rows, fewer than one window of {window} rows: give a "
                             "longer file, or a smaller dataset_config.window (window in the catalog entry)")
        starts = np.arange(0, len(table) - window + 1, stride, dtype=np.int64)
        g = len(starts)
        views, stats = _tag_statistics(table, state, starts, window)  # (G, S, W), (G, S, 6)
        if fitted_feature_set(self, fitted) == "signal":
            residual = np.abs(projection_residuals(z_scores(table, state), state["reading_components"]))  # (N, S)
            windows = np.lib.stride_tricks.sliding_window_view(residual, window, axis=0)[starts]  # (G, S, W)
            residual_stats = np.stack([windows.mean(-1), windows.max(-1)], -1)  # (G, S, 2)
            linear = (np.clip(stats, -LINEAR_RANGE, LINEAR_RANGE) + LINEAR_RANGE) / (2 * LINEAR_RANGE)
            node_stats = np.concatenate([linear, residual_stats / (1 + residual_stats)], -1)  # (G, S, 8)
        else:
            node_stats = _squash(stats)
        x = node_stats.reshape(g * s, node_stats.shape[-1]).astype(np.float32)
        centred = views - views.mean(-1, keepdims=True)  # (G, S, W)
        a, b = centred[:, edge_index[0]], centred[:, edge_index[1]]  # (G, E, W)
        denominator = np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
        with np.errstate(invalid="ignore", divide="ignore"):
            window_corr = np.where(denominator > 1e-12, (a * b).sum(-1) / denominator, 0.0)  # (G, E)
        difference = np.abs(views.mean(-1)[:, edge_index[0]] - views.mean(-1)[:, edge_index[1]])  # (G, E)
        training_corr = np.broadcast_to(np.asarray(state["correlation"], np.float32), (g, e))
        edge_attr = np.clip(np.stack([(training_corr + 1) / 2, (window_corr + 1) / 2, difference / (1 + difference)], -1), 0, 1)
        labels = np.lib.stride_tricks.sliding_window_view(table.label, window)[starts] if g else np.zeros((0, window), np.uint8)
        codes = np.lib.stride_tricks.sliding_window_view(attack_codes, window)[starts] if g else np.zeros((0, window), np.int16)
        y = labels.max(-1).astype(np.uint8) if g else np.zeros(0, np.uint8)
        kinds = int(attack_codes.max()) + 1 if len(attack_codes) else 1
        counts = (np.where(labels == 1, codes, 0)[..., None] == np.arange(kinds)).sum(1)  # (G, K)
        counts[:, 0] = 0
        attack_type = np.where(y == 1, counts.argmax(-1), 0).astype(np.int16)
        return GraphArrays(
            x=x, node_id=np.tile(np.arange(1, s + 1, dtype=np.int32), g), node_y=np.repeat(y, s),
            edge_index=np.tile(edge_index, g) if g else np.zeros((2, 0), np.int32),
            edge_attr=edge_attr.reshape(g * e, len(EDGE_FEATURES)).astype(np.float32),
            node_ptr=np.arange(g + 1, dtype=np.int64) * s, edge_ptr=np.arange(g + 1, dtype=np.int64) * e,
            y=y, attack_type=attack_type, source=np.full(g, source, np.int32), window_start=starts,
            window_stop=starts + window, start_time=np.asarray(table.timestamp, np.float64)[starts],
            end_time=np.asarray(table.timestamp, np.float64)[starts + window - 1],
        )


def z_scores(table: SensorTable, state: dict) -> np.ndarray:
    """(N, S) float64 readings z-scored with the normal training rows' mean and std (the fit)."""
    return (np.asarray(table.values, np.float64) - np.asarray(state["mean"])) / np.asarray(state["std"])


TAG_STATISTICS = ("mean", "std", "min", "max", "last", "change")


def _tag_statistics(table: SensorTable, state: dict, starts: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The z-scored readings of each window (G, S, W) and six statistics per tag (G, S, 6)."""
    z = z_scores(table, state).astype(np.float32)  # (N, S)
    views = np.lib.stride_tricks.sliding_window_view(z, window, axis=0)[starts]  # (G, S, W)
    stats = np.stack([views.mean(-1), views.std(-1), views.min(-1), views.max(-1), views[..., -1],
                      views[..., -1] - views[..., 0]], axis=-1)  # (G, S, 6)
    return views, stats


READING_RESIDUAL_STATISTICS = ("reading_pca_residual_mean", "reading_pca_residual_max")


def plant_window_statistics(table: SensorTable, fitted: FittedDomain, arrays: GraphArrays) -> tuple[np.ndarray, tuple[str, ...]]:
    """(G, S * 6 + 2) per-tag window statistics of the z-scored readings, then the mean and max over
    the window's rows of their PCA residual against the normal training readings (the pca baseline's
    score; `principal_components`): the baselines' features."""
    from kdgat_data.window_statistics import range_max, range_means

    starts = np.asarray(arrays.window_start, np.int64)
    stops = np.asarray(arrays.window_stop, np.int64)
    window = int(stops[0] - starts[0]) if len(starts) else 2
    state = fitted.state
    names = (*(f"{tag}_{stat}" for tag in state["sensors"] for stat in TAG_STATISTICS), *READING_RESIDUAL_STATISTICS)
    if not len(starts):
        return np.zeros((0, len(names)), np.float32), names
    _, stats = _tag_statistics(table, state, starts, window)
    residual = reading_residuals(z_scores(table, state),
                                 state["reading_components"])
    return np.column_stack([stats.reshape(len(starts), -1), range_means(residual, starts, stops),
                            range_max(residual, starts, stops)]).astype(np.float32), names


ADAPTER = register_adapter(WaterTreatmentAdapter())
