"""`WindowGraphDataModule`: the kdgat-data graph cache as Lightning train/val loaders."""

from __future__ import annotations

import logging
import sys
import time

import lightning as L
import numpy as np
import torch
from kdgat_data.batching import WindowBatches
from kdgat_data.cache import GraphCache, build_cache
from kdgat_data.catalog import resolve_dataset
from kdgat_data.id_dropout import RandomIdDropout
from kdgat_models.self_loops import SelfLoops
from kdgat_schemas import DEFAULT_MIN_CLASS_WINDOWS
from torch.utils.data import DataLoader
from torch_geometric.transforms import Compose

from kdgat_train.class_balanced_batches import ClassBalancedBatches
from kdgat_train.config.settings import DatasetSettings, TrainingSettings
from kdgat_train.curriculum import CurriculumBatches, normal_difficulty

_SHORTFALLS_SAID: set[tuple[str, str]] = set()


def open_cache(dataset: DatasetSettings, min_class_windows: int = DEFAULT_MIN_CLASS_WINDOWS) -> GraphCache:
    """Build or reuse the graph cache of ``dataset`` (the vocabulary and feature widths networks need)
    and say how many validation windows of each class the thresholds will be chosen on (a warning
    below ``min_class_windows``, where f1 / youden thresholds fall back)."""
    log = logging.getLogger(__name__)
    cache = build_cache(resolve_dataset(dataset.name), window=dataset.window, stride=dataset.stride,
                        validation_fraction=dataset.validation_fraction,
                        features=dataset.features, train_stride=dataset.train_stride, progress=_cache_progress(log))
    validation = cache.manifest.splits["val"]
    shortfall = validation.class_shortfall(min_class_windows)
    if shortfall:
        message = (f"{cache.manifest.dataset} validation: {shortfall} (see dataset validation / validation_fractions / "
                   "validation_block in configs/datasets.yaml)")
        log.info(message)  # every run's train.log keeps it
        if (str(cache.path), shortfall) not in _SHORTFALLS_SAID:  # the console hears it once per process (a pipeline)
            _SHORTFALLS_SAID.add((str(cache.path), shortfall))
            print(f"kdgat-train: warning: {message}", file=sys.stderr, flush=True)
    else:
        log.info("%s validation: %d normal and %d attack windows", cache.manifest.dataset,
                 validation.normal_windows, validation.attack_windows)
    return cache


def _cache_progress(log: logging.Logger):
    """A cache build's steps (reading each file, each split's windows) on the console (stderr) with the
    seconds since the build started, and in train.log: a first build of a large capture takes minutes
    and must not look stuck. A reused cache is one line in train.log only."""
    started = time.perf_counter()

    def progress(message: str) -> None:
        log.info("cache: %s", message)
        if not message.startswith("reusing cache"):
            print(f"  cache: {message} [{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)

    return progress


def feature_dims(cache: GraphCache) -> tuple[int, int]:
    """(node, edge) feature widths of the cache's graphs (they differ between domains)."""
    train = cache.split("train")
    return int(train.x.shape[1]), int(train.edge_attr.shape[1])


class WindowGraphDataModule(L.LightningDataModule):
    """Train and validation windows of one dataset.

    Batches are gathered straight from the cache's flat arrays (`WindowBatches`); self-loops are
    added once per batch (models run with ``add_self_loops=False``); ID dropout to UNK is applied
    to training batches only.

    Args:
        dataset: which dataset and how it becomes graphs.
        training: batch size, workers, ID dropout, seed.
        normals_only: train on normal windows only (the VGAE as a true anomaly detector).
        difficulty_vgae: a frozen VGAE scoring normal windows for the curriculum (re-sampled every
            epoch), or ``None`` for plain shuffled epochs.
        epochs: length of the curriculum's ratio ramp.
        cache: the already opened cache of ``dataset`` (default: opened on first use).
    """

    def __init__(self, *, dataset: DatasetSettings, training: TrainingSettings, normals_only: bool = False,
                 difficulty_vgae=None, epochs: int = 1, cache: GraphCache | None = None) -> None:
        super().__init__()
        self.settings, self.training, self.normals_only = dataset, training, normals_only
        self.difficulty_vgae, self.epochs = difficulty_vgae, epochs
        self.evaluation_batch_size = training.evaluation_batch_size  # scoring: evaluation and the curriculum
        self.cache = cache

    def prepare(self) -> GraphCache:
        """Build or reuse the cache (idempotent)."""
        if self.cache is None:
            self.cache = open_cache(self.settings)
        return self.cache

    @property
    def num_ids(self) -> int:
        return self.prepare().manifest.vocabulary_size

    @property
    def feature_dims(self) -> tuple[int, int]:
        """(node, edge) feature widths of the dataset's graphs (they differ between domains)."""
        return feature_dims(self.prepare())

    @property
    def balanced(self) -> bool:
        """Whether training draws class-balanced epochs (``training_config.sampling=balanced``)."""
        return self.training.sampling == "balanced"

    def class_counts(self) -> torch.Tensor:
        """(2,) normal and attack windows one training epoch shows (the split's, or half each when
        epochs are drawn class-balanced, so ``weighted_ce`` does not correct a balance twice)."""
        train = self.prepare().split("train")
        if self.balanced:
            return ClassBalancedBatches.expected_class_counts(train)
        y = np.asarray(train.y)
        return torch.tensor([(y == 0).sum(), (y == 1).sum()], dtype=torch.float)

    def setup(self, stage: str | None = None) -> None:
        cache = self.prepare()
        train = cache.split("train")
        batch_size, seed = self.training.batch_size, self.training.seed
        transform = Compose([RandomIdDropout(self.training.id_dropout, torch.Generator().manual_seed(seed + 1)), SelfLoops()])
        if self.balanced and (self.difficulty_vgae is not None or self.normals_only):
            raise ValueError("training_config.sampling=balanced draws both classes equally; "
                             + ("the curriculum draws its own normal:attack ratio" if self.difficulty_vgae is not None
                                else "normals_only training has one class") + ": leave sampling at shuffled")
        if self.difficulty_vgae is not None:  # VGAE-guided curriculum, re-sampled every epoch
            if self.training.num_workers:
                raise ValueError("the curriculum re-samples each epoch in the main process: set training_config.num_workers=0")
            self.train_set = CurriculumBatches(
                arrays=train, batch_size=batch_size, difficulty=normal_difficulty(self.difficulty_vgae, train, self.cache.manifest.window, self.evaluation_batch_size),
                epochs=self.epochs, start_ratio=self.training.curriculum.start_ratio,
                end_ratio=self.training.curriculum.end_ratio, difficulty_exponent=self.training.curriculum.difficulty_exponent,
                seed=seed, transform=transform,
            )
        elif self.balanced:  # class-balanced draw with replacement, new every epoch
            self.train_set = ClassBalancedBatches(arrays=train, batch_size=batch_size, seed=seed, transform=transform,
                                                  source=f"the training split of {self.settings.name}")
        else:
            self.train_set = WindowBatches(
                train, batch_size, indices=np.flatnonzero(np.asarray(train.y) == 0) if self.normals_only else None,
                shuffle=True, generator=torch.Generator().manual_seed(seed), transform=transform,
            )
        self.val_set = WindowBatches(cache.split("val"), batch_size, transform=SelfLoops())

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=None, num_workers=self.training.num_workers)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=None, num_workers=self.training.num_workers)
