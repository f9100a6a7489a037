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


@dataclass(frozen=True)
class FeatureSet:
    """One choice of window-graph features of a domain (``dataset_config.features``).

    Args:
        name: what the config names it (``anchor``, ``dynamics``, ...).
        version: the feature version recorded in the cache manifest and cache key.
        node_features: entity index first, then the continuous node features.
        edge_features: the edge features.
    """

    name: str
    version: str
    node_features: tuple[str, ...]
    edge_features: tuple[str, ...]


DEFAULT_FEATURE_SET = "default"  # the name of the only feature set of a domain that declares none


def feature_sets(adapter: DomainAdapter) -> dict[str, FeatureSet]:
    """The adapter's feature sets by name, its default first (one set named ``default``, from its
    ``feature_version`` / ``node_features`` / ``edge_features``, when it declares no ``feature_sets``)."""
    declared = getattr(adapter, "feature_sets", None)  # optional: most domains have one feature set
    if declared:
        return dict(declared)
    return {DEFAULT_FEATURE_SET: FeatureSet(DEFAULT_FEATURE_SET, adapter.feature_version, tuple(adapter.node_features),
                                            tuple(adapter.edge_features))}


def feature_set(adapter: DomainAdapter, name: str | None = None) -> FeatureSet:
    """The feature set ``name`` of ``adapter`` (None: its default).

    Raises:
        ValueError: the domain has no feature set of that name (the message names the field and
            the sets it has).
    """
    sets = feature_sets(adapter)
    if name is None:
        return next(iter(sets.values()))
    if name not in sets:
        raise ValueError(f"dataset_config.features: the {adapter.domain} domain has no feature set {name!r}; "
                         f"expected one of {', '.join(sets)}")
    return sets[name]


def fitted_feature_set(adapter: DomainAdapter, fitted: FittedDomain) -> str:
    """The name of the feature set ``fitted`` was made for (a fit saved before feature sets existed:
    the adapter's default), checked against the adapter's sets."""
    sets = feature_sets(adapter)
    name = fitted.state.get("feature_set", next(iter(sets)))
    if name not in sets:
        raise ValueError(f"feature set {name!r} of this fit is not one of {', '.join(sets)}")
    return name


class DomainAdapter(Protocol):
    """records -> windows -> graphs for one domain, plus the domain's feature description."""

    domain: str  # lower-case letters: the first token of experiment names
    has_vocabulary: bool  # entities with a fixed vocabulary (CAN IDs, tags) get an ID embedding and decoders
    record_words: tuple[str, str]  # what the CLI calls its records and entities ("frames", "IDs")
    feature_version: str  # of the default feature set
    node_features: tuple[str, ...]  # entity index first, then the continuous node features (default set)
    edge_features: tuple[str, ...]
    # optional ``feature_sets: dict[str, FeatureSet]`` (default first) for a domain with several; the
    # chosen set's name reaches ``graphs`` as ``fitted.state["feature_set"]``

    def reader_options(self, entry: Any, on_bad_row: Any, root: Path | None = None) -> Any:
        """The options ``read`` and ``fit`` take, from a catalog entry (`kdgat_data.catalog.DatasetEntry`),
        the bad-row policy and the dataset folder (for paths in the entry); their ``fingerprint()``
        (``dict[str, str]`` of what changes the records read) is part of the cache key."""

    def generate_synthetic(self, root: Path, spec: Any) -> None:
        """Write a synthetic dataset into the empty folder ``root`` (``spec``: the entry's `SyntheticSpec`)."""

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
    """Make ``adapter`` the one of its domain; a domain beyond the built-ins becomes a known domain of
    names, presets and catalogs (`kdgat_schemas.register_domain`) with the adapter's ``has_vocabulary``.

    Raises:
        ExperimentNameError: the domain name does not fit the grammar, or its ``has_vocabulary``
            disagrees with what kdgat-schemas declares for it.
    """
    from kdgat_schemas import register_domain

    register_domain(adapter.domain, has_vocabulary=adapter.has_vocabulary)
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
