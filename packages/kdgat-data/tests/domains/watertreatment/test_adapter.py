"""Water-treatment graphs: features hand-computed on a tiny window, topology learned from normal training rows only."""

import numpy as np
import pytest
from kdgat_data.domains import adapter_for
from kdgat_data.domains.watertreatment.adapter import learn_topology
from kdgat_data.domains.watertreatment.sensors import SensorTable


def _table(values, labels=None):
    values = np.asarray(values, np.float32)
    n = len(values)
    labels = np.zeros(n, np.uint8) if labels is None else np.asarray(labels, np.uint8)
    return SensorTable(np.arange(n, dtype=np.float64) * 3600, values, ("A", "B", "C"), labels, labels.astype(np.int16),
                       ("normal", "attack"))


def test_features_of_a_tiny_window_by_hand():
    train = _table([[0, 0, 5], [2, 4, 5], [4, 8, 5], [2, 4, 5]])  # A and B perfectly correlated, C constant
    adapter = adapter_for("watertreatment")
    fitted = adapter.fit([train])
    mean, std = np.array([2.0, 4.0, 5.0]), np.array([np.sqrt(2.0), np.sqrt(8.0), 0.05])  # C constant: 1 % of its magnitude
    assert fitted.state["mean"] == pytest.approx(mean.tolist()) and fitted.state["std"] == pytest.approx(std.tolist())
    assert fitted.vocabulary == [0, 1, 2]
    window = _table([[2, 4, 5], [4, 4, 5], [6, 4, 5]], labels=[0, 1, 0])
    graphs = adapter.graphs(window, fitted, window.attack_type, window=3, stride=1, source=0)
    assert len(graphs) == 1 and graphs.y.tolist() == [1] and graphs.node_id.tolist() == [1, 2, 3]
    z_a = (np.array([2, 4, 6]) - 2) / np.sqrt(2)
    expected_a = [z_a.mean(), z_a.std(), z_a.min(), z_a.max(), z_a[-1], z_a[-1] - z_a[0]]
    assert graphs.x[0] == pytest.approx(1 / (1 + np.exp(-np.array(expected_a))), abs=1e-6)
    assert graphs.x[1] == pytest.approx(1 / (1 + np.exp(-np.zeros(6))), abs=1e-6)  # B at its mean, flat
    edges = {tuple(e) for e in graphs.edge_index.T.tolist()}
    assert (0, 1) in edges and (1, 0) in edges  # |r| = 1 >= 0.5
    a_to_b = list(map(tuple, graphs.edge_index.T.tolist())).index((0, 1))
    training_corr, window_corr, difference = graphs.edge_attr[a_to_b]
    assert training_corr == pytest.approx(1.0)  # (r + 1) / 2 with r = 1
    assert window_corr == pytest.approx(0.5)  # B is flat in this window: r taken as 0
    d = abs(z_a.mean() - 0.0)
    assert difference == pytest.approx(d / (1 + d), abs=1e-6)


def test_topology_links_every_tag_and_ignores_attack_rows():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(200, 1))
    values = np.hstack([base, base * 2 + rng.normal(0, 0.01, (200, 1)), rng.normal(size=(200, 2))])
    edge_index, correlation = learn_topology((values - values.mean(0)) / values.std(0))
    assert set(edge_index.ravel()) == {0, 1, 2, 3}  # nobody isolated (at least 2 neighbours each)
    assert abs(correlation[list(map(tuple, edge_index.T.tolist())).index((0, 1))]) > 0.99
    labels = np.zeros(200, np.uint8)
    labels[:100] = 1
    poisoned = values.copy()
    poisoned[:100, 2] = poisoned[:100, 3] = 99.0  # attack rows: never seen by fit
    table = SensorTable(np.arange(200.0), poisoned.astype(np.float32), ("a", "b", "c", "d"), labels, labels.astype(np.int16),
                        ("normal", "attack"))
    fitted = adapter_for("watertreatment").fit([table])
    assert max(fitted.state["mean"][2:]) < 1.0


@pytest.mark.real_data
def test_inspect_and_build_the_shared_batadal_folder(tmp_path):
    from pathlib import Path

    from kdgat_data.cache import build_cache
    from kdgat_data.catalog import resolve_dataset
    from kdgat_data.inspection import inspect_dataset

    folder = Path(__file__).resolve().parents[5] / ".." / "shared" / "data" / "watertreatment" / "batadal"
    if not folder.is_dir():
        pytest.skip("../shared/data/watertreatment is absent")
    dataset = resolve_dataset(str(folder))
    assert dataset.domain == "watertreatment"  # detected from the ATT_FLAG header
    summary = inspect_dataset(dataset, dataset.entry.reader_options(root=dataset.root), window=24, stride=24)
    assert [f.frames for f in summary.files] == [8761, 4177]  # the attack-window table is not read as data
    assert [f.attack_frames for f in summary.files] == [0, 219] and summary.files[0].distinct_ids == 43
    cache = build_cache(dataset, window=24, stride=6, cache_root=tmp_path)
    assert cache.manifest.feature_version == "water-v2" and cache.manifest.vocabulary_size == 44
    train = cache.split("train")
    assert train.x.shape[1] == 6 and train.edge_attr.shape[1] == 3 and np.all((train.x >= 0) & (train.x <= 1))
    # inspect uses the training fit, as the cache does: one learned topology for every file
    per_graph = train.num_edges / len(train)
    assert [f.edges_per_graph for f in summary.files] == [(per_graph, per_graph, per_graph)] * 2


def test_near_constant_training_tags_do_not_overflow_or_explode():
    """A tag that barely moves in training (std 1e-7) and then changes in test gives finite,
    unsaturated-below-1 features and no overflow warning (BATADAL printed one on every build)."""
    import warnings

    from kdgat_data.domains.watertreatment.adapter import WaterTreatmentAdapter
    from kdgat_data.domains.watertreatment.sensors import SensorTable

    n = 200
    values = np.column_stack([np.sin(np.arange(n) / 5), 1.0 + 1e-7 * np.random.default_rng(0).normal(size=n)])
    train = SensorTable(timestamp=np.arange(n, dtype=np.float64), values=values, sensors=("wave", "pump"),
                        label=np.zeros(n, np.uint8), attack_type=np.zeros(n, np.int16))
    adapter = WaterTreatmentAdapter()
    fitted = adapter.fit([train])
    shifted = values.copy()
    shifted[:, 1] = -200.0  # the pump reading jumps far outside anything seen in training
    test = SensorTable(timestamp=train.timestamp, values=shifted, sensors=train.sensors, label=train.label,
                       attack_type=train.attack_type)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graphs = adapter.graphs(test, fitted, np.zeros(n, np.int16), 20, 20, 0)
    assert np.isfinite(graphs.x).all() and fitted.state["std"][1] >= 0.01


def test_reading_residual_is_zero_on_the_normal_subspace_and_large_off_it():
    """The pca baseline's statistic: two tags that move together in training keep 95 % of the
    variance on one axis; a window where they move apart has a large residual, one that follows
    the training relation has none."""
    from kdgat_data.domains.watertreatment.adapter import (
        WaterTreatmentAdapter,
        principal_components,
        reading_residuals,
    )

    n = 240
    wave = np.sin(np.arange(n) / 7)
    train = SensorTable(np.arange(n, dtype=np.float64), np.column_stack([wave, 2 * wave + 1]), ("level", "flow"),
                        np.zeros(n, np.uint8), np.zeros(n, np.int16))
    adapter = WaterTreatmentAdapter()
    fitted = adapter.fit([train])
    assert np.asarray(fitted.state["reading_components"]).shape == (1, 2)
    apart = np.column_stack([wave, -2 * wave + 1])  # the flow now runs against the level
    test = SensorTable(train.timestamp, apart, train.sensors, train.label, train.attack_type)
    names = None
    for table, expect_large in ((train, False), (test, True)):
        arrays = adapter.graphs(table, fitted, np.zeros(n, np.int16), 24, 24, 0)
        stats, names = adapter.window_statistics(table, fitted, arrays)
        residual = stats[:, names.index("reading_pca_residual_mean")]
        assert (residual.mean() > 0.1) == expect_large, residual
        assert (stats[:, names.index("reading_pca_residual_max")] >= residual - 1e-6).all()
    z = np.random.default_rng(0).normal(size=(50, 4))
    axes = principal_components(z, variance=1.0)
    assert np.allclose(reading_residuals(z - z.mean(0), axes), 0, atol=1e-12)


def test_the_signal_set_keeps_large_deviations_and_shows_residuals_per_tag():
    """``signal``: statistics linear in [-4, 4] standard deviations (the logistic of ``statistics``
    reads 2 and 4 sigma as 0.88 and 0.98), and a tag moving against its training partner has the
    larger residual on its own node."""
    from kdgat_data.domains.base import FittedDomain

    n = 240
    wave = np.sin(np.arange(n) / 7)
    train = SensorTable(np.arange(n, dtype=np.float64), np.column_stack([wave, 2 * wave + 1, np.cos(np.arange(n) / 5)]),
                        ("level", "flow", "other"), np.zeros(n, np.uint8), np.zeros(n, np.int16))
    adapter = adapter_for("watertreatment")
    fit = adapter.fit([train])
    signal = FittedDomain(fit.vocabulary, {**fit.state, "feature_set": "signal"})
    z = (np.asarray(train.values, np.float64) - fit.state["mean"]) / fit.state["std"]
    window = 24
    graphs = adapter.graphs(train, signal, np.zeros(n, np.int16), window, window, 0)
    x = np.asarray(graphs.x).reshape(len(graphs), 3, 8)
    assert x.shape[-1] == len(adapter.feature_sets["signal"].node_features) - 1
    means = z[: window * len(graphs)].reshape(len(graphs), window, 3).mean(1)  # (G, S) window means in sigma
    np.testing.assert_allclose(x[..., 0], (np.clip(means, -4, 4) + 4) / 8, atol=1e-5)
    assert x[..., 6:].max() < 0.1  # the training relation holds: small residuals
    apart = SensorTable(train.timestamp, np.column_stack([wave, -2 * wave + 1, train.values[:, 2]]), train.sensors,
                        train.label, train.attack_type)
    moved = np.asarray(adapter.graphs(apart, signal, np.zeros(n, np.int16), window, window, 0).x).reshape(len(graphs), 3, 8)
    assert (moved[:, :2, 7].mean() > 0.3) and moved[:, 2, 7].mean() < 0.1  # level and flow broke their relation
    statistics = np.asarray(adapter.graphs(train, fit, np.zeros(n, np.int16), window, window, 0).x)
    assert statistics.shape[1] == 6  # the default set is unchanged


def test_a_file_shorter_than_one_window_is_one_error_with_the_window_size():
    adapter = adapter_for("watertreatment")
    fitted = adapter.fit([_table([[0, 0, 5], [2, 4, 5], [4, 8, 5], [2, 4, 5]])])
    short = _table([[2, 4, 5], [4, 4, 5]])
    with pytest.raises(ValueError, match="2 rows, fewer than one window of 3 rows"):
        adapter.graphs(short, fitted, short.attack_type, window=3, stride=1, source=0)
