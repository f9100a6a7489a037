"""The graph cache: collated window graphs per split, memory-mapped, described by a manifest.

Layout of one cache folder ``<cache_root>/<dataset>/<cache_key>/``::

    manifest.json             kdgat-schemas DatasetManifest
    fitted.json               what the domain adapter fitted on the training heads (normalisation,
                              per-ID periods, PCA axes): what scoring new records needs
    train/*.npy               GraphArrays of the training windows
    val/*.npy                 the validation windows (tails of the training files, plus any named
                              validation files)
    test/<scenario>/*.npy     one store per test scenario

The key hashes the source files' sha256, W, S, the validation fraction, the feature version and
the reader options, so any change gives a new folder (a rebuild) and an unchanged dataset is
reused. The sources' sha256 are remembered in ``<cache_root>/source_digests.json`` while each file's
size, modification time and inode stay the same (`file_digests`), so a run hashes a capture once. A cache is written under a temporary name and renamed into place when complete, so a
crash never leaves a half-written cache, and two processes building at once both end up with
one complete cache.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from kdgat_schemas import DatasetManifest, SourceFile, SplitSummary, build_cache_key

from kdgat_data.attack_events import SplitEvents, find_attack_events
from kdgat_data.cache_integrity import cache_checksums, cache_damage, staging_prefix, sweep_stale_staging
from kdgat_data.catalog import Dataset
from kdgat_data.domains import FittedDomain, RecordTable, adapter_for
from kdgat_data.domains.base import FeatureSet, feature_set
from kdgat_data.file_digests import FileDigests
from kdgat_data.graph_arrays import GraphArrays
from kdgat_data.layout import DatasetFiles, dedupe_sources, discover_files
from kdgat_data.readers.bad_row_policy import OnBadRow
from kdgat_data.record_table import NORMAL, remap_attack_types
from kdgat_data.splits import tail_fractions, validation_bounds
from kdgat_data.vocabulary import Vocabulary
from kdgat_data.window_statistics import load_statistics, save_names, save_statistics

MANIFEST = "manifest.json"
CACHE_LAYOUT = 6  # 2: window_stop, window times and events.json per split; 3: window_stats.npy;
# 4: CAN ID and payload entropies, plant PCA residuals in the statistics, fitted.json; 5: checksums;
# 6: CAN frames sorted by time on reading, negative timestamps refused
FITTED_STATE = "fitted.json"
DEFAULT_VALIDATION_FRACTION = 0.2


@dataclass(frozen=True)
class GraphCache:
    """A built cache: its folder, manifest, and whether it was reused."""

    path: Path
    manifest: DatasetManifest
    reused: bool = False

    @property
    def split_names(self) -> list[str]:
        return list(self.manifest.splits)

    @property
    def test_scenarios(self) -> list[str]:
        return [name.removeprefix("test/") for name in self.manifest.splits if name.startswith("test/")]

    def split(self, name: str, mmap: bool = True) -> GraphArrays:
        """``train``, ``val`` or ``test/<scenario>`` as memory-mapped `GraphArrays`."""
        if name not in self.manifest.splits:
            raise KeyError(f"{self.path}: no split {name!r}; splits are {', '.join(self.manifest.splits)}")
        return GraphArrays.load(self.path / name, mmap=mmap)

    def events(self, name: str) -> SplitEvents:
        """The attack events and normal seconds of split ``name`` (for event-level metrics)."""
        self.split(name)  # a clear error for an unknown split
        return SplitEvents.load(self.path / name)

    def window_statistics(self, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """(G, F) per-window record statistics of split ``name`` and their names (the baselines' features)."""
        self.split(name)
        return load_statistics(self.path / name, self.path)

    def fitted_state(self) -> dict:
        """The adapter's fit on the training heads (`FittedDomain.state`), as saved with the cache."""
        return json.loads((self.path / FITTED_STATE).read_text())

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(self.manifest.vocabulary)

    @classmethod
    def open(cls, path: str | Path) -> GraphCache:
        path = Path(path)
        manifest = DatasetManifest.model_validate_json((path / MANIFEST).read_text())
        return cls(path, manifest, reused=True)


class DatasetNotFoundError(FileNotFoundError):
    """A catalog dataset whose folder is not on this machine (and that is not generated)."""


def check_dataset_present(dataset: Dataset) -> None:
    """Raise `DatasetNotFoundError` with one line saying which catalog entry, which folder, and where
    to get it, when ``dataset`` is neither on disk nor generated on first use."""
    if dataset.root.exists() or dataset.entry.synthetic is not None:
        return
    from kdgat_data.catalog import find_project_root

    project = find_project_root()
    readme = (project / "data" / dataset.domain / "README.md") if project is not None else None
    where = f"; {readme.relative_to(project)} says where to get it" if readme is not None and readme.is_file() else ""
    raise DatasetNotFoundError(f"dataset {dataset.name!r} (configs/datasets.yaml): its folder {dataset.root} does not "
                               f"exist{where}, then copy it there (or set the entry's path)")


SOURCE_DIGESTS = "source_digests.json"  # the sha256 memo of source captures (`file_digests`)


def default_cache_root() -> Path:
    """``data/cache`` of the project found from the working folder (else of the working folder)."""
    from kdgat_data.catalog import find_project_root

    root = find_project_root()
    return (root if root is not None else Path.cwd()) / "data" / "cache"


def build_cache(
    dataset: Dataset,
    *,
    window: int = 100,
    stride: int = 100,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    cache_root: str | Path | None = None,
    on_bad_row: OnBadRow = OnBadRow.ERROR,
    progress: Callable[[str], None] = lambda message: None,
    fitted_from: GraphCache | None = None,
    features: str | None = None,
    train_stride: int | None = None,
) -> GraphCache:
    """Build the graph cache of ``dataset``, or reuse the one built from identical inputs.

    With ``fitted_from`` (another dataset's cache, of the same domain) only ``dataset``'s test
    scenarios are built, with what was fitted on ``fitted_from``'s training split: its vocabulary
    (entities it never saw become UNK, index 0), normalisation and per-entity statistics. This is
    how a model trained on one dataset is scored on another (cross-dataset evaluation); the cache
    has only ``test/<scenario>`` splits and ``fitted_from``'s vocabulary in its manifest.

    ``features`` names the domain's feature set (`FeatureSet`; None: the domain's default, or
    ``fitted_from``'s); its version is part of the cache key and the manifest. ``train_stride``: the
    stride of the training split's windows (overlapping training windows when below ``window``; more
    training windows from the same frames); validation and test windows keep ``stride``.
    """
    if train_stride is not None and train_stride < 1:
        raise ValueError(f"train_stride must be at least 1, got {train_stride}")
    train_stride = None if train_stride == stride else train_stride
    if fitted_from is not None and fitted_from.manifest.domain != dataset.domain:
        raise ValueError(f"cannot score {dataset.name} ({dataset.domain}) with what was fitted on "
                         f"{fitted_from.manifest.dataset} ({fitted_from.manifest.domain}): the domains differ")
    check_dataset_present(dataset)
    ensure_generated(dataset, progress)
    options = dataset.entry.reader_options(on_bad_row, dataset.root)
    adapter = adapter_for(dataset.domain)
    if fitted_from is not None:
        fitted_features = fitted_from.fitted_state().get("feature_set")
        if features is not None and fitted_features is not None and features != fitted_features:
            raise ValueError(f"features {features!r} differ from {fitted_features!r}, the ones "
                             f"{fitted_from.manifest.dataset} was fitted with")
        features = features or fitted_features
    chosen = feature_set(adapter, features)
    entry = dataset.entry
    files = _accepted(discover_files(dataset.root, entry.train, entry.test, entry.validation), adapter)
    if not files.train:
        raise FileNotFoundError(f"{dataset.root}: no training capture files found")
    digests = FileDigests(memo_file=Path(cache_root or default_cache_root()) / SOURCE_DIGESTS)
    sources = dedupe_sources(files, digests)  # each capture hashed once while it is unchanged
    digests.save()
    if fitted_from is not None:
        sources = [source for source in sources if source.role == "test"]
        if not sources:
            raise FileNotFoundError(f"{dataset.root}: no test scenario files to score")
    fractions = tail_fractions([s.path for s in sources if s.role == "train"], validation_fraction,
                               entry.validation_fractions)
    recorded_fractions = fractions if entry.validation_fractions else {}
    key = build_cache_key(
        sources=[(s.path, s.sha256, s.role, s.scenario) for s in sources],
        window=window, stride=stride, validation_fraction=validation_fraction,
        feature_version=chosen.version, reader_options=options.fingerprint(), cache_layout=CACHE_LAYOUT,
        validation_fractions=recorded_fractions, train_stride=None if fitted_from is not None else train_stride,
        validation_block=entry.validation_block if fitted_from is None else "tail",
    )
    if fitted_from is not None:  # the same files fitted elsewhere are other graphs: another folder
        key = f"{key}-fitted-on-{fitted_from.manifest.dataset}-{fitted_from.manifest.content_hash()[:12]}"
    target = Path(cache_root or default_cache_root()) / dataset.name / key
    if (target / MANIFEST).is_file():
        cache = GraphCache.open(target)
        damage = cache_damage(target, cache.manifest.checksums)
        if damage is None:
            progress(f"reusing cache {target}")
            return cache
        message = f"cache {target} is damaged ({damage}): rebuilding it"
        progress(message)
        logging.getLogger(__name__).warning(message)
        _discard(target)
    progress(f"building cache {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    for swept in sweep_stale_staging(target.parent):
        progress(f"removed {swept}, left by a cache build that did not finish")
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(key), dir=target.parent))
    try:
        fitted = None if fitted_from is None else FittedDomain(vocabulary=list(fitted_from.manifest.vocabulary),
                                                               state=fitted_from.fitted_state())
        manifest = _build_into(staging, dataset, files.root, sources, options, window, stride, validation_fraction,
                               recorded_fractions, progress, chosen, fitted, train_stride)
        try:
            os.replace(staging, target)
        except OSError:  # another process finished the same cache first: keep theirs
            shutil.rmtree(staging, ignore_errors=True)
            return GraphCache.open(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return GraphCache(target, manifest)


def _discard(target: Path) -> None:
    """Move a damaged cache out of the way (atomically, so no reader sees half of it), then delete it."""
    aside = target.with_name(f"{staging_prefix(target.name)}damaged")
    try:
        os.replace(target, aside)
    except FileNotFoundError:  # another process discarded it first
        return
    shutil.rmtree(aside, ignore_errors=True)


def _plain(value):
    """numpy scalars and arrays in a fitted state, as JSON numbers and lists."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"fitted state value {value!r} is not JSON")


def _accepted(files: DatasetFiles, adapter) -> DatasetFiles:
    """Drop files the domain does not read as records (an attack-window table next to plant CSVs)."""
    accepts = getattr(adapter, "accepts", lambda _: True)
    return replace(files, train=[p for p in files.train if accepts(p)],
                   validation=[p for p in files.validation if accepts(p)],
                   test={s: [p for p in ps if accepts(p)] for s, ps in files.test.items()})


def ensure_generated(dataset: Dataset, progress: Callable[[str], None] = lambda message: None) -> None:
    """Generate a synthetic dataset on first use (its folder missing or empty)."""
    spec = dataset.entry.synthetic
    if spec is None or (dataset.root.is_dir() and any(dataset.root.iterdir())):
        return
    progress(f"generating synthetic dataset {dataset.root}")
    adapter_for(dataset.domain).generate_synthetic(dataset.root, spec)


def _build_into(
    folder: Path,
    dataset: Dataset,
    root: Path,
    sources: list[SourceFile],
    options: Any,
    window: int,
    stride: int,
    validation_fraction: float,
    validation_fractions: dict[str, float],
    progress: Callable[[str], None],
    features: FeatureSet,
    fitted: FittedDomain | None = None,
    train_stride: int | None = None,
) -> DatasetManifest:
    adapter = adapter_for(dataset.domain)
    validation_block = dataset.entry.validation_block
    attack_types = [NORMAL]
    tables: dict[int, RecordTable] = {}
    codes: dict[int, np.ndarray] = {}
    counted: list[SourceFile] = []
    for index, source in enumerate(sources):
        if source.role == "duplicate":
            counted.append(source)
            continue
        path = Path(source.path) if Path(source.path).is_absolute() else root / source.path
        progress(f"reading {source.path}")
        table, report = adapter.read(path, options)
        if report.skipped_rows:
            progress(f"skipped {report.skipped_rows} bad rows in {source.path}")
        if report.reordered_frames:
            progress(f"sorted {report.reordered_frames} frames out of time order in {source.path}")
        tables[index] = table
        codes[index] = remap_attack_types(table, attack_types)
        counted.append(source.model_copy(update={"frames": len(table), "attack_frames": table.attack_frames}))

    bounds = {i: validation_bounds(len(tables[i]), validation_fractions.get(s.path, validation_fraction), validation_block)
              for i, s in enumerate(sources) if s.role == "train"}
    train_parts = {i: (tables[i].slice(*training), tables[i].slice(*validation))
                   for i, (training, validation) in bounds.items()}
    if fitted is None:
        fitted = adapter.fit([head for head, _ in train_parts.values()], options)  # training heads only: no leakage
    fitted = FittedDomain(vocabulary=fitted.vocabulary, state={**fitted.state, "feature_set": features.name})
    if train_stride is not None and fitted.state.get("window_seconds"):
        raise ValueError(f"{dataset.name}: train_stride applies to windows of W records; these are time windows "
                         "(flows.window_seconds), whose starts are set by flows.stride_seconds")

    statistic_names: list[tuple[str, ...]] = []

    def graphs_of(index: int, table: RecordTable, first_frame: int, part_stride: int = stride):
        """Window graphs, window statistics and attack events of ``table``, which starts at record
        ``first_frame`` of source ``index``."""
        part_codes = codes[index][first_frame : first_frame + len(table)]
        arrays = adapter.graphs(table, fitted, part_codes, window, part_stride, index)
        stats, names = adapter.window_statistics(table, fitted, arrays)
        statistic_names.append(names)
        events = find_attack_events(table.label, table.timestamp, part_codes, source=index, first_record=first_frame)
        return arrays.shifted(first_frame), len(table), events, stats

    split_parts: dict[str, list[tuple[GraphArrays, int, SplitEvents, np.ndarray]]] = {"train": [], "val": []}
    for index, (training, validation) in train_parts.items():
        (train_start, _), (validation_start, _) = bounds[index]
        split_parts["train"].append(graphs_of(index, training, train_start, train_stride or stride))
        split_parts["val"].append(graphs_of(index, validation, validation_start))
    for index, source in enumerate(sources):
        if source.role == "validation":  # a whole named validation file
            split_parts["val"].append(graphs_of(index, tables[index], 0))
        elif source.role == "test":
            split_parts.setdefault(f"test/{source.scenario}", []).append(graphs_of(index, tables[index], 0))

    summaries = {}
    for name, parts in split_parts.items():
        if not parts:  # a cache fitted elsewhere has no train or val split
            continue
        arrays = GraphArrays.concatenate([p for p, _, _, _ in parts])
        progress(f"{name}: {len(arrays)} windows")
        arrays.save(folder / name)
        events = SplitEvents()
        for _, _, part_events, _ in parts:
            events.extend(part_events)
        events.save(folder / name)
        save_statistics(folder / name, np.concatenate([stats for *_, stats in parts]))
        summaries[name] = SplitSummary(
            frames=sum(n for _, n, *_ in parts), windows=len(arrays), attack_windows=int(np.asarray(arrays.y).sum()),
            nodes=arrays.num_nodes, edges=arrays.num_edges,
        )
    manifest = DatasetManifest(
        dataset=dataset.name, domain=dataset.domain, window=window, stride=stride,
        validation_fraction=validation_fraction, feature_version=features.version,
        node_features=list(features.node_features), edge_features=list(features.edge_features), sources=counted,
        vocabulary=fitted.vocabulary, splits=summaries, attack_types=attack_types,
        reader_options=options.fingerprint(), validation_fractions=validation_fractions, train_stride=train_stride,
        validation_block=validation_block,
    )
    if len(set(statistic_names)) > 1:
        raise ValueError(f"{dataset.name}: the window statistics differ between source files")
    save_names(folder, statistic_names[0] if statistic_names else ())
    (folder / FITTED_STATE).write_text(json.dumps(fitted.state, default=_plain) + "\n")
    manifest = manifest.model_copy(update={"checksums": cache_checksums(folder)})  # every file but the manifest
    (folder / MANIFEST).write_text(json.dumps(json.loads(manifest.model_dump_json()), indent=2) + "\n")
    return manifest

