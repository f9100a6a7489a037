"""The graph cache: splits without leakage, UNK handling, reuse and rebuild, atomic writes."""

import json
import shutil

import numpy as np
import pytest
from kdgat_data.cache import GraphCache, build_cache
from kdgat_data.catalog import resolve_dataset
from kdgat_data.vocabulary import UNK_INDEX


@pytest.fixture(scope="module")
def cache(tiny_synthetic, tmp_path_factory) -> GraphCache:
    return build_cache(resolve_dataset(str(tiny_synthetic)), window=50, stride=50,
                       cache_root=tmp_path_factory.mktemp("cache"))


def test_splits_and_manifest(cache):
    m = cache.manifest
    assert set(m.splits) == {"train", "val", *(f"test/{s}" for s in
                            ["dos", "fuzzing", "gear_spoofing", "rpm_spoofing", "masquerade", "suppression"])}
    for name, summary in m.splits.items():
        arrays = cache.split(name)
        assert summary.windows == len(arrays) > 0
        assert summary.attack_windows == int(arrays.y.sum())
        assert summary.nodes == arrays.num_nodes and summary.edges == arrays.num_edges
    assert m.window == 50 and m.stride == 50 and m.feature_version == "can-v1"
    assert all(len(s.sha256) == 64 for s in m.sources)
    assert m.splits["train"].attack_windows > 0  # class balance is recorded
    assert isinstance(cache.split("train").x, np.memmap)


def test_no_frame_is_shared_between_train_validation_and_test(cache):
    m = cache.manifest
    train, val = cache.split("train"), cache.split("val")
    for index, source in enumerate(m.sources):
        if source.role != "train":
            continue
        head_frames = round(source.frames * (1 - m.validation_fraction))
        train_starts = train.window_start[train.source == index]
        val_starts = val.window_start[val.source == index]
        assert (train_starts + m.window <= head_frames).all()  # training windows end before the tail
        assert (val_starts >= head_frames).all()
    train_sources = {s.sha256 for s in m.sources if s.role == "train"}
    assert not any(s.sha256 in train_sources for s in m.sources if s.role == "test")
    test_sources = {int(i) for name in cache.split_names if name.startswith("test/") for i in cache.split(name).source}
    assert test_sources.isdisjoint({int(i) for i in train.source} | {int(i) for i in val.source})


def test_vocabulary_comes_from_training_heads_only(cache, tiny_synthetic):
    from kdgat_data.domains.automotive.readers.dispatch import read_frames

    vocabulary = set(cache.manifest.vocabulary)
    fuzz, _ = read_frames(tiny_synthetic / "test_02_fuzzing/fuzzing-2.csv")
    unseen = set(np.unique(fuzz.can_id).tolist()) - vocabulary
    assert unseen, "the fuzzing test capture should contain IDs never seen in training"
    store = cache.split("test/fuzzing")
    assert (store.node_id == UNK_INDEX).any()
    assert store.node_id.max() <= len(vocabulary)
    assert set(cache.manifest.vocabulary) == vocabulary  # building the test split added nothing


def test_reused_when_nothing_changed_and_rebuilt_when_window_or_source_changes(tiny_synthetic, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(tiny_synthetic, root)
    cache_root = tmp_path / "cache"
    dataset = resolve_dataset(str(root))
    first = build_cache(dataset, window=40, stride=40, cache_root=cache_root)
    again = build_cache(dataset, window=40, stride=40, cache_root=cache_root)
    assert again.reused and again.path == first.path
    other_window = build_cache(dataset, window=30, stride=30, cache_root=cache_root)
    assert not other_window.reused and other_window.path != first.path
    target = root / "test_01_dos/dos-2.csv"
    target.write_text(target.read_text().replace(",0\n", ",0\n", 1) + "1800000000.0,123,00,0\n")
    changed = build_cache(dataset, window=40, stride=40, cache_root=cache_root)
    assert not changed.reused and changed.path != first.path


def test_failed_build_leaves_nothing_behind(tmp_path, write):
    root = tmp_path / "broken"
    write(root / "train_01_attack_free/a.csv", "timestamp,arbitration_id,data_field,attack\n1.0,100,00,0\n")
    write(root / "test_01_dos/b.csv", "timestamp,arbitration_id,data_field,attack\n1.0,ZZZ,00,0\n")
    cache_root = tmp_path / "cache"
    with pytest.raises(ValueError, match=r"b\.csv:2"):
        build_cache(resolve_dataset(str(root)), window=2, stride=1, cache_root=cache_root)
    assert list((cache_root / "broken").iterdir()) == []


def test_manifest_file_is_readable_json(cache):
    data = json.loads((cache.path / "manifest.json").read_text())
    assert data["attack_types"][0] == "normal"
    assert GraphCache.open(cache.path).manifest == cache.manifest


def test_windows_know_their_records_and_times(cache, tiny_synthetic):
    """window_start/stop and start/end times point at the records each window was built from."""
    from kdgat_data.domains.automotive.readers.dispatch import read_frames

    m = cache.manifest
    store = cache.split("test/dos")
    index = int(store.source[0])
    frames, _ = read_frames(tiny_synthetic / m.sources[index].path)
    assert (store.window_stop - store.window_start == m.window).all()
    np.testing.assert_array_equal(store.start_time, frames.timestamp[store.window_start])
    np.testing.assert_array_equal(store.end_time, frames.timestamp[store.window_stop - 1])
    labels = np.array([frames.label[a:b].max() for a, b in zip(store.window_start, store.window_stop, strict=True)])
    np.testing.assert_array_equal(labels, store.y)


def test_attack_events_are_the_runs_of_attack_records(cache, tiny_synthetic):
    from kdgat_data.domains.automotive.readers.dispatch import read_frames

    m = cache.manifest
    events = cache.events("test/dos")
    index = int(cache.split("test/dos").source[0])
    frames, _ = read_frames(tiny_synthetic / m.sources[index].path)
    runs = np.flatnonzero(np.diff(np.concatenate([[0], frames.label, [0]]).astype(int)) == 1)
    assert len(events.events) == len(runs) > 0
    assert [e.first_record for e in events.events] == runs.tolist()
    for event in events.events:
        assert frames.label[event.first_record : event.last_record + 1].all()
        assert event.start_time == frames.timestamp[event.first_record]
        assert m.attack_types[event.attack_type] == "dos"
    assert 0 < events.normal_seconds <= frames.timestamp[-1] - frames.timestamp[0]
    assert cache.events("val").normal_seconds > 0  # the validation tails carry their own events and times


def test_window_statistics_describe_each_windows_records(cache, tiny_synthetic):
    from kdgat_data.domains.automotive.readers.dispatch import read_frames

    m = cache.manifest
    stats, names = cache.window_statistics("test/dos")
    store = cache.split("test/dos")
    assert stats.shape == (len(store), len(names)) and np.isfinite(stats).all()
    frames, _ = read_frames(tiny_synthetic / m.sources[int(store.source[0])].path)
    column = {name: stats[:, i] for i, name in enumerate(names)}
    assert (column["frames"] == m.window).all()
    assert (column["distinct_ids"] == np.diff(store.node_ptr)).all()
    for g in (0, len(store) // 2, len(store) - 1):  # spot checks against a direct computation
        window = slice(int(store.window_start[g]), int(store.window_stop[g]))
        assert column["byte0_mean"][g] == pytest.approx(frames.payload[window, 0].mean() / 255, rel=1e-5)
        assert column["gap_min"][g] == pytest.approx(np.diff(frames.timestamp[window]).min(), rel=1e-4, abs=1e-9)
        _, id_counts = np.unique(frames.can_id[window], return_counts=True)
        shares = id_counts / id_counts.sum()
        assert column["id_entropy"][g] == pytest.approx(-(shares * np.log(shares)).sum(), rel=1e-5)
    # the DoS flood injects frames far faster than any ID's training period: its timing z-score stands out
    attack = np.asarray(store.y) == 1
    assert column["id_gap_z_max_abs"][attack].mean() > column["id_gap_z_max_abs"][~attack].mean()


def test_fuzzing_windows_carry_random_payloads_and_many_ids(cache):
    """The payload- and ID-entropy statistics separate fuzzing (random IDs and bytes) from normal windows."""
    stats, names = cache.window_statistics("test/fuzzing")
    attack = np.asarray(cache.split("test/fuzzing").y) == 1
    column = {name: stats[:, i] for i, name in enumerate(names)}
    assert column["payload_entropy_mean"][attack].mean() > column["payload_entropy_mean"][~attack].mean()
    assert column["payload_entropy_max"].max() <= np.log(8) + 1e-6
    assert column["id_entropy"][attack].mean() > column["id_entropy"][~attack].mean()


def test_payload_entropy_by_hand():
    from kdgat_data.domains.automotive.adapter import payload_entropy

    payload = np.array([[1, 2, 3, 4, 5, 6, 7, 8], [7, 7, 7, 7, 0, 0, 0, 0], [1, 1, 2, 2, 9, 9, 9, 9], [5] * 8], np.uint8)
    entropy = payload_entropy(payload, np.array([8, 4, 4, 0]))
    assert entropy.tolist() == pytest.approx([np.log(8), 0.0, np.log(2), 0.0])


def test_the_fitted_state_is_saved_with_the_cache(cache):
    state = cache.fitted_state()
    assert len(state["id_gap_mean"]) == len(cache.manifest.vocabulary) + 1 and state["top_ids"]


def test_catalog_validation_files_and_per_file_tails(tiny_synthetic, tmp_path, cache):
    from kdgat_data.catalog import Dataset, DatasetEntry

    entry = DatasetEntry(path=str(tiny_synthetic), validation=["train_02_with_attacks/dos-1.csv"],
                         validation_fractions={"train_01_attack_free/*": 0.5})
    chosen = build_cache(Dataset("tiny", "automotive", tiny_synthetic, entry), window=50, stride=50, cache_root=tmp_path)
    m = chosen.manifest
    roles = {s.path: (i, s) for i, s in enumerate(m.sources)}
    dos_index, dos = roles["train_02_with_attacks/dos-1.csv"]
    normal_index, normal = roles["train_01_attack_free/normal-1.csv"]
    assert dos.role == "validation"
    train, val = chosen.split("train"), chosen.split("val")
    assert not (train.source == dos_index).any()  # never trained on
    assert (val.source == dos_index).sum() == dos.frames // 50  # the whole file validates
    assert m.validation_fractions["train_01_attack_free/normal-1.csv"] == 0.5
    assert m.validation_fractions["train_02_with_attacks/fuzzing-1.csv"] == 0.2
    tail = val.window_start[val.source == normal_index]
    assert tail.min() >= normal.frames // 2 and len(tail) == (normal.frames - round(normal.frames * 0.5)) // 50
    assert m.splits["val"].attack_windows > cache.manifest.splits["val"].attack_windows
    assert chosen.path.name != cache.path.name  # a different validation plan is a different cache


def test_a_head_validation_block_holds_each_files_first_records_and_training_the_rest(tiny_synthetic, tmp_path, cache):
    from kdgat_data.catalog import Dataset, DatasetEntry

    entry = DatasetEntry(path=str(tiny_synthetic), validation_block="head")
    chosen = build_cache(Dataset("tiny", "automotive", tiny_synthetic, entry), window=50, stride=50, cache_root=tmp_path)
    m = chosen.manifest
    train, val = chosen.split("train"), chosen.split("val")
    assert m.validation_block == "head" and chosen.path.name != cache.path.name  # its own cache
    for index, source in enumerate(m.sources):
        if source.role != "train":
            continue
        block = round(source.frames * m.validation_fraction)
        val_starts, train_starts = val.window_start[val.source == index], train.window_start[train.source == index]
        assert len(val_starts) == block // 50 and (val_starts + m.window <= block).all()  # the file's head
        assert train_starts.min() == block and (train_starts >= block).all()  # training after it, no overlap
    assert cache.manifest.cache_key() != m.cache_key()
    assert m.splits["val"].attack_windows != cache.manifest.splits["val"].attack_windows  # other windows validate


def test_a_catalog_entry_mixing_formats_tests_on_another_vehicles_files(tiny_synthetic, tmp_path):
    """Train on can-train-and-test captures, test on the same traffic written DAGA-style (DLC in bits,
    True/False ANOMALY) by a per-file reader in the catalog: one pipeline, two formats."""
    from kdgat_data.catalog import Catalog
    from kdgat_data.domains.automotive.readers.dispatch import read_frames

    root = tmp_path / "mixed"
    shutil.copytree(tiny_synthetic / "train_01_attack_free", root / "train_01_attack_free")
    frames, _ = read_frames(tiny_synthetic / "test_02_fuzzing" / "fuzzing-2.csv")
    lines = ["time,can_id,dlc_bits,data,ANOMALY"] + [
        f"{t:.6f},{i:03X},{8 * d},{bytes(p[:d]).hex().upper()},{bool(y)}"
        for t, i, d, p, y in zip(frames.timestamp, frames.can_id, frames.dlc, frames.payload, frames.label, strict=True)]
    (root / "other_car").mkdir()
    (root / "other_car" / "fuzzing_drive.csv").write_text("\n".join(lines) + "\n")
    catalog = tmp_path / "configs" / "datasets.yaml"
    catalog.parent.mkdir()
    catalog.write_text(f"""datasets:
  mixed:
    path: {root}
    format: can_train_test
    train: [train_01_attack_free/*.csv]
    test: {{other_car: [other_car/*.csv]}}
    readers:
      - files: [other_car/*.csv]
        format: column_mapped
        mapping: {{timestamp: time, id: can_id, dlc: dlc_bits, dlc_unit: bits, payload: data, label: ANOMALY}}
""")
    mixed = build_cache(Catalog.load(catalog).get("mixed"), window=50, stride=50, cache_root=tmp_path / "cache")
    test = mixed.split("test/other_car")
    assert mixed.manifest.attack_types == ["normal", "fuzzing"]  # named from the file, not "true"
    reference = build_cache(resolve_dataset(str(tiny_synthetic)), window=50, stride=50, cache_root=tmp_path / "ref")
    assert len(test) == len(frames) // 50 and int(test.y.sum()) == int(reference.split("test/fuzzing").y.sum())


def test_the_feature_set_is_part_of_the_key_and_reaches_the_graphs(tiny_synthetic, tmp_path, cache):
    """``dynamics`` is another cache (version can-v2, 18 node features whose first 10 are the anchor's);
    a cross-dataset cache keeps the features its fit was made with and refuses others."""
    dataset = resolve_dataset(str(tiny_synthetic))
    anchor = build_cache(dataset, window=50, stride=50, cache_root=tmp_path)
    dynamics = build_cache(dataset, window=50, stride=50, cache_root=tmp_path, features="dynamics")
    assert anchor.manifest.feature_version == "can-v1" and dynamics.manifest.feature_version == "can-v2"
    assert dynamics.path != anchor.path and len(dynamics.manifest.node_features) == 19
    assert dynamics.fitted_state()["feature_set"] == "dynamics"
    for split in ("train", "test/fuzzing"):
        x_anchor, x_dynamics = np.asarray(anchor.split(split).x), np.asarray(dynamics.split(split).x)
        assert x_anchor.shape[1] == 10 and x_dynamics.shape[1] == 18
        np.testing.assert_array_equal(x_dynamics[:, :10], x_anchor)
        assert x_dynamics[:, 10:].std(axis=0).max() > 0.01  # not a constant column block
    cross = build_cache(dataset, window=50, stride=50, cache_root=tmp_path, fitted_from=dynamics)
    assert np.asarray(cross.split("test/fuzzing").x).shape[1] == 18
    with pytest.raises(ValueError, match="'anchor' differ from 'dynamics'"):
        build_cache(dataset, window=50, stride=50, cache_root=tmp_path, fitted_from=dynamics, features="anchor")
    with pytest.raises(ValueError, match="dataset_config.features"):
        build_cache(dataset, window=50, stride=50, cache_root=tmp_path, features="nope")


def test_training_windows_may_overlap_while_validation_and_test_keep_their_stride(tiny_synthetic, tmp_path):
    dataset = resolve_dataset(str(tiny_synthetic))
    plain = build_cache(dataset, window=50, stride=50, cache_root=tmp_path)
    assert build_cache(dataset, window=50, stride=50, cache_root=tmp_path, train_stride=50).path == plain.path
    dense = build_cache(dataset, window=50, stride=50, cache_root=tmp_path, train_stride=10)
    assert dense.path != plain.path and dense.manifest.train_stride == 10 and dense.manifest.stride == 50
    assert dense.manifest.splits["train"].windows >= 4 * plain.manifest.splits["train"].windows
    starts = np.asarray(dense.split("train").window_start)
    assert 10 in set(np.diff(starts).tolist())
    for split in plain.manifest.splits:
        if split != "train":  # the windows thresholds are chosen and results reported on are unchanged
            np.testing.assert_array_equal(np.asarray(dense.split(split).x), np.asarray(plain.split(split).x))


def test_time_windows_refuse_a_training_stride(tmp_path):
    """Flows in T-second windows start every stride_seconds: a record stride would be silently inert."""
    from kdgat_data.catalog import Catalog

    catalog = tmp_path / "configs" / "datasets.yaml"
    catalog.parent.mkdir()
    catalog.write_text(f"""datasets:
  timed:
    domain: internet
    path: {tmp_path / 'flows'}
    format: zeek
    synthetic: {{seed: 0, frames: 3000}}
    flows: {{window_seconds: 30}}
""")
    with pytest.raises(ValueError, match="train_stride applies to windows of W records"):
        build_cache(Catalog.load(catalog).get("timed"), cache_root=tmp_path / "cache", train_stride=10)
    assert not list((tmp_path / "cache").glob("timed/*/manifest.json"))
