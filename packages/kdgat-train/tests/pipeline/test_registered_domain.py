"""A domain added from outside the packages: its records table, reader, graph builder, statistics and
synthetic generator are written here, in the test alone, registered with `register_adapter`, given one
catalog entry, and the whole pipeline (teachers, students, KD, fusion, baselines, table) runs on it.

The toy domain: a stream of readings ``time,entity,value,label`` from a few entities in turn; an
attack is a burst of readings from one entity with a value far off its normal range. Node = entity
of the window, edge = consecutive readings, node features = mean value and share of the window.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from kdgat_data.domains import FittedDomain, register_adapter
from kdgat_data.graph_arrays import GraphArrays
from kdgat_data.readers.errors import DataFormatError, ReadReport
from kdgat_data.record_table import NORMAL, RecordTable
from kdgat_data.vocabulary import Vocabulary

from ..conftest import FAST, TINY_SIZES

HEADER = "time,entity,value,label"


@dataclasses.dataclass(frozen=True)
class ReadingTable(RecordTable):
    record_columns = ("timestamp", "entity", "value", "label", "attack_type")

    timestamp: np.ndarray
    entity: np.ndarray
    value: np.ndarray
    label: np.ndarray
    attack_type: np.ndarray
    attack_types: tuple[str, ...] = (NORMAL,)
    source: str = ""


@dataclasses.dataclass(frozen=True)
class ReadingOptions:
    on_bad_row: str

    def fingerprint(self) -> dict[str, str]:
        return {"on_bad_row": self.on_bad_row}


def _write_readings(path: Path, rng: np.random.Generator, count: int, bursts: int) -> None:
    entity = np.arange(count) % 6 + 1
    value = np.sin(np.arange(count) / 15.0 + entity) + rng.normal(0, 0.05, count)
    label = np.zeros(count, int)
    for start in rng.choice(np.arange(50, count - 30, 60), size=bursts, replace=False):
        entity[start:start + 12] = 3
        value[start:start + 12] = 6.0 + rng.normal(0, 0.1, 12)
        label[start:start + 12] = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "\n".join(f"{0.01 * i:.2f},{e},{v:.4f},{y}" for i, (e, v, y) in enumerate(zip(entity, value, label, strict=True)))
    path.write_text(f"{HEADER}\n{rows}\n")


class ReadingAdapter:
    """The toy domain's `DomainAdapter` (only the interface, nothing of kdgat-data's domains)."""

    domain = "toy"
    has_vocabulary = True
    record_words = ("readings", "entities")
    feature_version = "toy-1"
    node_features = ("entity_index", "value_mean", "share")
    edge_features = ("share",)

    def reader_options(self, entry, on_bad_row, root=None) -> ReadingOptions:
        return ReadingOptions(on_bad_row=str(on_bad_row))

    def generate_synthetic(self, root: Path, spec) -> None:
        rng = np.random.default_rng(spec.seed)
        _write_readings(root / "train_01_attack_free" / "readings.csv", rng, spec.frames, bursts=0)
        _write_readings(root / "train_02_with_attacks" / "readings.csv", rng, spec.frames, bursts=spec.frames // 150)
        _write_readings(root / "test_01_burst" / "readings.csv", rng, spec.frames // 2, bursts=spec.frames // 300)

    def read(self, path: Path, options) -> tuple[ReadingTable, ReadReport]:
        lines = path.read_text().splitlines()
        if not lines or lines[0] != HEADER:
            raise DataFormatError(path, f"expected the header {HEADER!r}", line=1)
        rows = np.array([line.split(",") for line in lines[1:]], dtype=float)
        label = rows[:, 3].astype(np.uint8)
        table = ReadingTable(timestamp=rows[:, 0], entity=rows[:, 1].astype(np.int64), value=rows[:, 2].astype(np.float32),
                             label=label, attack_type=label.astype(np.int16),
                             attack_types=(NORMAL, "burst") if label.any() else (NORMAL,), source=str(path))
        return table, ReadReport(path=str(path), format="toy_csv", rows=len(table))

    def fit(self, training_heads: list[ReadingTable], options=None) -> FittedDomain:
        return FittedDomain(vocabulary=Vocabulary.from_training(head.entity for head in training_heads).to_list())

    def _starts(self, table: ReadingTable, window: int, stride: int) -> np.ndarray:
        return np.arange(0, max(len(table) - window + 1, 0), stride)

    def graphs(self, table: ReadingTable, fitted: FittedDomain, attack_codes: np.ndarray, window: int, stride: int,
               source: int) -> GraphArrays:
        index = Vocabulary(fitted.vocabulary).encode(table.entity)
        parts = []
        for start in self._starts(table, window, stride):
            rows = slice(start, start + window)
            entities, local = np.unique(table.entity[rows], return_inverse=True)
            share = np.bincount(local, minlength=len(entities)) / window
            mean = np.bincount(local, table.value[rows], minlength=len(entities)) / (share * window)
            pairs = np.unique(np.stack([local[:-1], local[1:]]), axis=1)
            counts = np.array([((local[:-1] == a) & (local[1:] == b)).sum() for a, b in pairs.T]) / window
            y = table.label[rows]
            parts.append(GraphArrays(
                x=np.stack([mean, share], 1).astype(np.float32),
                node_id=index[rows][np.unique(local, return_index=True)[1]].astype(np.int32),
                node_y=(np.bincount(local, y, minlength=len(entities)) > 0).astype(np.uint8),
                edge_index=pairs.astype(np.int32), edge_attr=counts[:, None].astype(np.float32),
                node_ptr=np.array([0, len(entities)], np.int64), edge_ptr=np.array([0, pairs.shape[1]], np.int64),
                y=np.array([y.max()], np.uint8), attack_type=np.array([attack_codes[rows].max()], np.int16),
                source=np.array([source], np.int32), window_start=np.array([start], np.int64),
                window_stop=np.array([start + window], np.int64),
                start_time=table.timestamp[[start]], end_time=table.timestamp[[start + window - 1]],
            ))
        return GraphArrays.concatenate(parts) if parts else GraphArrays.empty(2, 1)

    def window_statistics(self, table: ReadingTable, fitted: FittedDomain, arrays: GraphArrays):
        windows = np.stack([table.value[a:b] for a, b in zip(arrays.window_start, arrays.window_stop, strict=True)])
        return np.stack([windows.mean(1), windows.std(1), windows.max(1)], 1).astype(np.float32), ("mean", "std", "max")


TOY_CATALOG = """
datasets:
  toy_synthetic:
    domain: toy
    token: synthetic
    path: data/toy/synthetic
    synthetic: {seed: 0, frames: 3000}
    window: 30
    stride: 30
"""


@pytest.fixture
def toy_domain():
    """The toy domain registered for one test, then forgotten (the registries are process-wide)."""
    from kdgat_data.domains import base
    from kdgat_schemas import DOMAIN_HAS_VOCABULARY, DOMAINS

    before = (list(DOMAINS), dict(DOMAIN_HAS_VOCABULARY), dict(base._ADAPTERS))
    register_adapter(ReadingAdapter())
    yield
    DOMAINS[:] = before[0]
    for registry, saved in ((DOMAIN_HAS_VOCABULARY, before[1]), (base._ADAPTERS, before[2])):
        registry.clear()
        registry.update(saved)


def test_an_unregistered_domain_is_refused_by_the_catalog(tmp_path):
    from kdgat_data.catalog import Catalog, CatalogError

    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "datasets.yaml").write_text(TOY_CATALOG)
    with pytest.raises(CatalogError, match="datasets.toy_synthetic.domain: unknown domain 'toy'"):
        Catalog.load(tmp_path / "configs" / "datasets.yaml")


@pytest.mark.slow
def test_a_domain_registered_from_outside_runs_the_whole_pipeline(toy_domain, tmp_path, monkeypatch):
    from kdgat_train.api import train

    project = tmp_path / "project"
    (project / "configs").mkdir(parents=True)
    (project / "configs" / "datasets.yaml").write_text(TOY_CATALOG)
    monkeypatch.setenv("KDGAT_PROJECT_ROOT", str(project))
    runs = tmp_path / "runs"
    [pipeline] = train(["config_store=toy_synthetic_pipeline", *FAST, *TINY_SIZES, f"runs_root={runs}"], project_root=project)

    records = {path.parent.parent.relative_to(runs): json.loads(path.read_text())
               for path in runs.glob("toy/synthetic/**/run_*/run.json")}
    assert {record["status"] for record in records.values()} == {"COMPLETED"}
    assert len(records) == 11 + 2 + 1, sorted(records)  # 11 stages, the gbdt and iforest baselines, the pipeline
    assert {stage.parts[2] for stage in records} == {"unsupervised", "supervised", "fusion", "baseline", "pipeline"}
    # the graphs are the toy adapter's: two continuous node features, one edge feature, its feature version
    [manifest_path] = (project / "data" / "cache").glob("toy_synthetic/*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["domain"] == "toy" and manifest["feature_version"] == "toy-1"
    assert manifest["node_features"] == list(ReadingAdapter.node_features)
    # the table has the burst scenario with baselines (gbdt and iforest on the toy statistics)
    table = (pipeline / "comparison.md").read_text()
    assert "burst" in table and "gbdt" in table and "iforest" in table
