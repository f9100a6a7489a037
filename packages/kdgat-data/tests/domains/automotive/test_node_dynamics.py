"""The ``dynamics`` node features: per-ID timing and payload dynamics against the training fit."""

import numpy as np
import pytest
from kdgat_data.domains.automotive.adapter import ADAPTER
from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.automotive.graph_features import DYNAMICS_FEATURES
from kdgat_data.domains.automotive.node_dynamics import DYNAMICS_NODE_FEATURES, NEUTRAL
from kdgat_data.domains.base import FittedDomain, feature_set

A, B, FOREIGN = 0x100, 0x200, 0x7FF
COLUMN = {name: 10 + k for k, name in enumerate(DYNAMICS_NODE_FEATURES)}


def _table(frames: list[tuple[float, int, list[int]]]) -> FrameTable:
    """(time, ID, payload bytes) rows in time order, all normal."""
    n = len(frames)
    payload = np.zeros((n, 8), np.uint8)
    for i, (_, _, data) in enumerate(frames):
        payload[i, : len(data)] = data
    return FrameTable.build(timestamp=np.array([t for t, _, _ in frames]), can_id=np.array([c for _, c, _ in frames]),
                            dlc=np.full(n, 8), payload=payload, label=np.zeros(n, np.uint8))


def _periodic(seconds: float, *, counter: bool = True) -> list[tuple[float, int, list[int]]]:
    """A every 10 ms with a counter in byte 0 (or a constant), B every 20 ms with constant bytes."""
    rows = [(k * 0.010, A, [k % 256 if counter else 7, 1]) for k in range(int(seconds / 0.010))]
    rows += [(0.005 + k * 0.020, B, [9, 9]) for k in range(int(seconds / 0.020))]
    return sorted(rows, key=lambda row: row[0])


@pytest.fixture(scope="module")
def fitted() -> FittedDomain:
    fit = ADAPTER.fit([_table(_periodic(20.0))])
    return FittedDomain(vocabulary=fit.vocabulary, state={**fit.state, "feature_set": "dynamics"})


def _scaled(log2_ratio: float) -> float:
    """Where a ratio of ``2 ** log2_ratio`` lands (`node_dynamics.log_ratio`)."""
    return (log2_ratio / 4 + 1) / 2


def _node(fitted, frames, can_id, feature):
    """``feature`` of node ``can_id`` in the single window holding every frame of ``frames``."""
    table = _table(frames)
    graphs = ADAPTER.graphs(table, fitted, np.zeros(len(table), np.int16), len(table), len(table), 0)
    assert len(graphs) == 1 and np.asarray(graphs.x).shape[1] == len(DYNAMICS_FEATURES) - 1
    nodes = np.unique(table.can_id)  # nodes are ordered by ID
    return float(np.asarray(graphs.x)[list(nodes).index(can_id), COLUMN[feature]])


def test_training_like_traffic_is_neutral(fitted):
    frames = _periodic(1.0)
    for feature in ("gap_mean_ratio", "gap_min_ratio", "count_ratio", "change_rate_deviation"):
        assert abs(_node(fitted, frames, A, feature) - NEUTRAL) < 0.03, feature
        assert abs(_node(fitted, frames, B, feature) - NEUTRAL) < 0.03, feature
    assert _node(fitted, frames, A, "change_rate") == 1.0  # a counter changes every frame
    assert _node(fitted, frames, B, "change_rate") == 0.0
    assert _node(fitted, frames, A, "byte_deviation") < 0.2


def test_injected_frames_halve_the_gaps_and_raise_the_count(fitted):
    """Fabrication: an extra A frame 0.1 ms after each legitimate one."""
    frames = _periodic(1.0) + [(0.0001 + k * 0.010, A, [3, 1]) for k in range(99)]
    frames.sort(key=lambda row: row[0])
    assert _node(fitted, frames, A, "gap_mean_ratio") == pytest.approx(_scaled(-1), abs=0.01)
    assert _node(fitted, frames, A, "gap_min_ratio") == 0.0  # log2(0.01) clipped at -4
    assert _node(fitted, frames, A, "count_ratio") == pytest.approx(_scaled(1), abs=0.015)
    assert abs(_node(fitted, frames, B, "gap_mean_ratio") - NEUTRAL) < 0.03  # the other ID is untouched


def test_suppressed_frames_lengthen_the_gaps(fitted):
    frames = [row for row in _periodic(1.0) if row[1] != A or round(row[0] / 0.010) % 4 == 0]
    assert _node(fitted, frames, A, "gap_mean_ratio") == pytest.approx(_scaled(2), abs=0.01)
    assert _node(fitted, frames, A, "count_ratio") < _scaled(-1.5)


def test_a_masquerade_at_the_right_period_shows_in_the_payload(fitted):
    """The counter of A stops (constant payload) and its bytes leave the training distribution."""
    normal, masked = _periodic(1.0), _periodic(1.0, counter=False)
    assert abs(_node(fitted, masked, A, "gap_mean_ratio") - NEUTRAL) < 0.03  # timing unchanged
    assert _node(fitted, masked, A, "change_rate") == 0.0
    assert _node(fitted, masked, A, "change_rate_deviation") == pytest.approx(0.0, abs=0.01)  # rate 0 where training had 1
    assert _node(fitted, masked, A, "bit_flips") == 0.0 < _node(fitted, normal, A, "bit_flips")


def test_bit_flips_count_the_changed_bits(fitted):
    frames = [(k * 0.010, A, [0xFF if k % 2 else 0x00, 1]) for k in range(50)]  # 8 bits flip every frame
    assert _node(fitted, frames, A, "bit_flips") == pytest.approx(8 / 64)


def test_an_unknown_id_gets_neutral_dynamics(fitted):
    frames = sorted(_periodic(0.5) + [(0.001 * k, FOREIGN, [k]) for k in range(40)], key=lambda row: row[0])
    neutral = {"gap_mean_ratio": NEUTRAL, "gap_min_ratio": NEUTRAL, "gap_spread": 0.0, "count_ratio": NEUTRAL,
               "change_rate_deviation": NEUTRAL, "byte_deviation": 0.0}
    for feature, value in neutral.items():
        assert _node(fitted, frames, FOREIGN, feature) == value, feature


def test_features_depend_on_the_window_alone(fitted):
    """Window k of an S=1 build equals the one window of its frames alone (streaming = offline)."""
    frames = _periodic(2.0) + [(0.3 + 0.0007 * k, A, [k, 5]) for k in range(60)]
    frames.sort(key=lambda row: row[0])
    table = _table(frames)
    codes = np.zeros(len(table), np.int16)
    every = ADAPTER.graphs(table, fitted, codes, 100, 1, 0)
    for start in (0, 37, 90, len(table) - 100):
        alone = ADAPTER.graphs(table.slice(start, start + 100), fitted, codes[:100], 100, 100, 0)
        a, b = np.asarray(every.node_ptr)[start], np.asarray(every.node_ptr)[start + 1]
        np.testing.assert_allclose(np.asarray(every.x)[a:b], np.asarray(alone.x), atol=1e-6)


def test_the_anchor_set_is_unchanged_by_the_fit(fitted):
    """``anchor`` graphs keep the published 10 features; ``dynamics`` appends 8 after them."""
    table = _table(_periodic(3.0))
    codes = np.zeros(len(table), np.int16)
    anchor = ADAPTER.graphs(table, FittedDomain(fitted.vocabulary, {**fitted.state, "feature_set": "anchor"}), codes, 100, 50, 0)
    dynamics = ADAPTER.graphs(table, fitted, codes, 100, 50, 0)
    assert np.asarray(anchor.x).shape[1] == 10
    np.testing.assert_array_equal(np.asarray(dynamics.x)[:, :10], np.asarray(anchor.x))


def test_an_unknown_feature_set_names_the_field_and_the_choices(fitted):
    with pytest.raises(ValueError, match=r"dataset_config.features.*'timing'.*anchor, dynamics"):
        feature_set(ADAPTER, "timing")
    stale = FittedDomain(fitted.vocabulary, {**fitted.state, "feature_set": "signal"})  # another domain's set
    with pytest.raises(ValueError, match="'signal' of this fit is not one of anchor, dynamics"):
        ADAPTER.graphs(_table(_periodic(1.0)), stale, np.zeros(150, np.int16), 100, 100, 0)
    assert feature_set(ADAPTER).name == "anchor"  # the published features stay the default
