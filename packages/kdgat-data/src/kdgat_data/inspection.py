"""`kdgat-data inspect`: what is in a dataset, per file, before anything is cached."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kdgat_data.catalog import Dataset
from kdgat_data.domains import adapter_for
from kdgat_data.layout import discover_files, relative_path
from kdgat_data.splits import split_train_validation, tail_fractions


@dataclass(frozen=True)
class FileSummary:
    path: str
    role: str
    format: str
    frames: int
    skipped_rows: int
    distinct_ids: int
    attack_frames: int
    attack_types: dict[str, int]
    duration_s: float
    windows: int
    attack_windows: int
    nodes_per_graph: tuple[float, int, int]  # mean, min, max
    edges_per_graph: tuple[float, int, int]
    validation_windows: int = 0  # windows this file gives the validation split (a training file's tail)
    validation_attack_windows: int = 0
    reordered_frames: int = 0  # frames moved by sorting a capture that went back in time

    @property
    def attack_share(self) -> float:
        return self.attack_frames / self.frames if self.frames else 0.0


@dataclass
class DatasetSummary:
    name: str
    root: Path
    window: int
    stride: int
    files: list[FileSummary] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return sum(f.frames for f in self.files)

    @property
    def windows(self) -> int:
        return sum(f.windows for f in self.files)

    @property
    def attack_windows(self) -> int:
        return sum(f.attack_windows for f in self.files)

    @property
    def validation_windows(self) -> tuple[int, int]:
        """(normal, attack) windows of the validation split the cache would build."""
        windows = sum(f.validation_windows for f in self.files)
        attacks = sum(f.validation_attack_windows for f in self.files)
        return windows - attacks, attacks


def inspect_dataset(dataset: Dataset, options, window: int = 100, stride: int = 100,
                    validation_fraction: float = 0.2) -> DatasetSummary:
    """Per file: records, entities (CAN IDs, hosts or plant tags), attacks, the graphs W and S would
    give and the validation windows it would give (a training file's tail, or all of a named
    validation file). The graphs use one fit on the training files' heads, as training does (the
    CAN vocabulary, the plant normalisation and learned topology), so what it shows is what a
    model would see."""
    adapter = adapter_for(dataset.domain)
    entry = dataset.entry
    files = discover_files(dataset.root, entry.train, entry.test, entry.validation)
    summary = DatasetSummary(dataset.name, dataset.root, window, stride)
    accepts = getattr(adapter, "accepts", lambda _: True)  # e.g. not an attack-window table next to plant CSVs
    train = [p for p in files.train if accepts(p)]
    fractions = tail_fractions([relative_path(p, files.root) for p in train], validation_fraction, entry.validation_fractions)
    roles = ([(p, "train") for p in train] + [(p, "validation") for p in files.validation if accepts(p)]
             + [(p, f"test:{s}") for s, ps in files.test.items() for p in ps if accepts(p)])
    tables = {path: adapter.read(path, options) for path, _ in roles}
    parts = {path: split_train_validation(tables[path][0], fractions[relative_path(path, files.root)], entry.validation_block)
             for path in train}
    fitted = adapter.fit([head for head, _ in parts.values()], options) if parts else None
    for path, role in roles:
        table, report = tables[path]
        fit = fitted or adapter.fit([table], options)  # no training file: the file on itself
        graphs = adapter.graphs(table, fit, table.attack_type, window, stride, 0)
        validation = (0, 0)
        if role == "validation":
            validation = (len(graphs), int(graphs.y.sum()))
        elif role == "train":
            block = parts[path][1]
            block_graphs = adapter.graphs(block, fit, block.attack_type, window, stride, 0)
            validation = (len(block_graphs), int(block_graphs.y.sum()))
        nodes, edges = np.diff(graphs.node_ptr), np.diff(graphs.edge_ptr)
        entities = (len(np.unique(table.can_id)) if hasattr(table, "can_id")
                    else len(getattr(table, "sensors", None) or getattr(table, "hosts", ())))
        summary.files.append(
            FileSummary(
                path=relative_path(path, files.root), role=role, format=report.format, frames=len(table),
                skipped_rows=report.skipped_rows, distinct_ids=int(entities),
                attack_frames=table.attack_frames, attack_types=table.attack_counts(),
                duration_s=float(table.timestamp[-1] - table.timestamp[0]) if len(table) else 0.0,
                windows=len(graphs), attack_windows=int(graphs.y.sum()),
                nodes_per_graph=_stats(nodes), edges_per_graph=_stats(edges),
                validation_windows=validation[0], validation_attack_windows=validation[1],
                reordered_frames=report.reordered_frames,
            )
        )
    return summary


def _stats(values: np.ndarray) -> tuple[float, int, int]:
    if len(values) == 0:
        return (0.0, 0, 0)
    return (float(values.mean()), int(values.min()), int(values.max()))

