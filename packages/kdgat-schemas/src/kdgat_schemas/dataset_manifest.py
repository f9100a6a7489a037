"""`DatasetManifest`: what a graph cache was built from (DESIGN.md §2), shared by data and train."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SourceFile(BaseModel):
    """One raw file that fed the cache."""

    model_config = ConfigDict(frozen=True)

    path: str
    sha256: str
    size_bytes: int
    role: Literal["train", "validation", "test", "duplicate"]
    scenario: str | None = Field(None, description="test scenario name; None for training and validation files")
    duplicate_of: str | None = Field(None, description="path of the byte-identical file that was kept")
    frames: int = 0
    attack_frames: int = 0


class SplitSummary(BaseModel):
    """Counts of one split (train, val, or one test scenario)."""

    model_config = ConfigDict(frozen=True)

    frames: int
    windows: int
    attack_windows: int
    nodes: int
    edges: int

    @property
    def normal_windows(self) -> int:
        return self.windows - self.attack_windows

    @property
    def attack_share(self) -> float:
        return self.attack_windows / self.windows if self.windows else 0.0

    def class_shortfall(self, minimum: int) -> str | None:
        """Why a threshold rule that needs ``minimum`` windows of each class cannot read this split
        (``None`` when both classes have enough)."""
        return class_shortfall(self.normal_windows, self.attack_windows, minimum)


DEFAULT_MIN_CLASS_WINDOWS = 30  # evaluation.min_class_windows: fewest windows of a class a threshold rule reads


def class_shortfall(normal_windows: int, attack_windows: int, minimum: int = DEFAULT_MIN_CLASS_WINDOWS) -> str | None:
    """A sentence saying which class of a validation split has fewer than ``minimum`` windows, or
    ``None`` when both have enough (then f1 / youden thresholds can be chosen on it)."""
    short = [name for name, count in (("normal", normal_windows), ("attack", attack_windows)) if count < minimum]
    if not short:
        return None
    return (f"{normal_windows} normal and {attack_windows} attack windows, fewer than {minimum} {' and '.join(short)}: "
            f"f1, youden and f1@fpr thresholds fall back to a quantile of normal windows "
            f"(fpr:0.01, or the f1@fpr rule's own rate)")


class DatasetManifest(BaseModel):
    """Describes a built graph cache; two caches with equal `cache_key` are interchangeable.

    The vocabulary lists raw entity IDs (CAN IDs) in index order starting at index 1; index 0 is
    UNK, the row for every ID not seen in the training split.
    """

    model_config = ConfigDict(frozen=True)

    dataset: str
    domain: str
    window: int
    stride: int
    validation_fraction: float
    feature_version: str
    node_features: list[str]
    edge_features: list[str]
    sources: list[SourceFile]
    vocabulary: list[int]
    splits: dict[str, SplitSummary]
    attack_types: list[str] = Field(description="attack-type names by code; code 0 is 'normal'")
    reader_options: dict[str, str] = Field(default_factory=dict)
    validation_fractions: dict[str, float] = Field(
        default_factory=dict, description="tail fraction per training file where the catalog overrides validation_fraction")
    checksums: dict[str, str] = Field(
        default_factory=dict, description="sha256 of every file of the cache but the manifest (checked before reuse)")
    train_stride: int | None = Field(
        None, description="stride of the training split's windows where it differs from stride (validation and test keep stride)")
    validation_block: str = Field(
        "tail", description="where each training file's validation block lies: its tail (default) or its head")

    def cache_key(self) -> str:
        """Hash of everything that determines the cache contents (not the derived counts)."""
        return build_cache_key(
            sources=[(s.path, s.sha256, s.role, s.scenario) for s in self.sources],
            window=self.window,
            stride=self.stride,
            validation_fraction=self.validation_fraction,
            feature_version=self.feature_version,
            reader_options=self.reader_options,
            validation_fractions=self.validation_fractions,
            train_stride=self.train_stride,
            validation_block=self.validation_block,
        )

    def content_hash(self) -> str:
        """Hash of the whole manifest, recorded in every run that used the cache (a manifest without a
        ``train_stride``, or with the default tail validation block, hashes as it did before those fields existed)."""
        unset = {name for name, is_default in (("train_stride", self.train_stride is None),
                                               ("validation_block", self.validation_block == "tail")) if is_default}
        return hashlib.sha256(self.model_dump_json(exclude=unset or None).encode()).hexdigest()

    @property
    def vocabulary_size(self) -> int:
        """Embedding rows needed: the known IDs plus UNK."""
        return len(self.vocabulary) + 1


def build_cache_key(
    *,
    sources: list[tuple[str, str, str, str | None]],
    window: int,
    stride: int,
    validation_fraction: float,
    feature_version: str,
    reader_options: dict[str, str],
    cache_layout: int = 1,
    validation_fractions: dict[str, float] | None = None,
    train_stride: int | None = None,
    validation_block: str = "tail",
) -> str:
    payload = {
        "cache_layout": cache_layout,
        "sources": sorted([list(s) for s in sources], key=lambda s: (s[0], s[1])),
        "window": window,
        "stride": stride,
        "validation_fraction": validation_fraction,
        "feature_version": feature_version,
        "reader_options": dict(sorted(reader_options.items())),
    }
    if validation_fractions:  # only when the catalog sets them, so other keys stay as they were
        payload["validation_fractions"] = dict(sorted(validation_fractions.items()))
    if train_stride is not None and train_stride != stride:  # likewise
        payload["train_stride"] = train_stride
    if validation_block != "tail":  # likewise
        payload["validation_block"] = validation_block
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
