"""The one interface every domain implements (DESIGN.md §2, "other domains")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kdgat_data.graph_arrays import GraphArrays
from kdgat_data.record_table import RecordTable


@dataclass(frozen=True)
class FittedDomain:
    """What an adapter learns from the training split only (never from validation or test).

    Args:
        vocabulary: raw entity IDs in index order from 1 (index 0 = UNK); empty when entities have
            no fixed vocabulary (hosts), so every node gets index 0 and models run without an ID table.
        state: anything else fitted on training data (normalisation statistics, a learned topology).
    """

    vocabulary: list[int] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)


class DomainAdapter(Protocol):
    """records -> windows -> graphs for one domain, plus the domain's feature description."""

    domain: str
    feature_version: str
    node_features: tuple[str, ...]  # entity index first, then the continuous node features
    edge_features: tuple[str, ...]

    def read(self, path: Path, options: Any) -> tuple[RecordTable, Any]:
        """One source file -> (records, a report with ``skipped_rows``)."""

    def fit(self, training_heads: list[RecordTable], options: Any = None) -> FittedDomain:
        """Learn vocabulary / statistics from the training part of each training file (``options``:
        the reader options, for settings the graphs need such as time windows)."""

    def graphs(self, table: RecordTable, fitted: FittedDomain, attack_codes: np.ndarray, window: int, stride: int,
               source: int) -> GraphArrays:
        """Window graphs of ``table`` (``attack_codes``: per-record attack type in the dataset's shared list)."""

    def window_statistics(self, table: RecordTable, fitted: FittedDomain, arrays: GraphArrays) -> tuple[np.ndarray, tuple[str, ...]]:
        """(G, F) statistics of the records of each window of ``arrays`` (its graphs of ``table``) and
        their F names: the features of the baselines (`kdgat_data.window_statistics`)."""


_ADAPTERS: dict[str, DomainAdapter] = {}


def register_adapter(adapter: DomainAdapter) -> DomainAdapter:
    _ADAPTERS[adapter.domain] = adapter
    return adapter


def adapter_for(domain: str) -> DomainAdapter:
    """The adapter of ``domain`` (its module is imported on first use)."""
    if domain not in _ADAPTERS:
        import importlib
        import importlib.util

        if importlib.util.find_spec(f"kdgat_data.domains.{domain}") is not None:
            importlib.import_module(f"kdgat_data.domains.{domain}.adapter")
    if domain not in _ADAPTERS:
        raise NotImplementedError(f"domain {domain!r} has no adapter yet; known: {', '.join(sorted(_ADAPTERS)) or 'none'}")
    return _ADAPTERS[domain]
