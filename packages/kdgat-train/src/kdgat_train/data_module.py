"""`WindowGraphDataModule`: the kdgat-data graph cache as Lightning train/val loaders."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from kdgat_data.cache import GraphCache, build_cache
from kdgat_data.catalog import resolve_dataset
from kdgat_data.dataset import WindowGraphDataset
from kdgat_data.id_dropout import RandomIdDropout
from kdgat_models.self_loops import SelfLoops
from torch.utils.data import Subset
from torch_geometric.loader import DataLoader
from torch_geometric.transforms import Compose

from kdgat_train.config.settings import DatasetSettings, TrainingSettings


class WindowGraphDataModule(L.LightningDataModule):
    """Train and validation windows of one dataset.

    Self-loops are added in the data (models run with ``add_self_loops=False``); ID dropout to UNK
    is applied to training windows only.

    Args:
        dataset: which dataset and how it becomes graphs.
        training: batch size, workers, ID dropout, seed.
        normals_only: train on normal windows only (the VGAE as a true anomaly detector).
    """

    def __init__(self, dataset: DatasetSettings, training: TrainingSettings, normals_only: bool = False) -> None:
        super().__init__()
        self.settings, self.training, self.normals_only = dataset, training, normals_only
        self.cache: GraphCache | None = None

    def prepare(self) -> GraphCache:
        """Build or reuse the cache (idempotent); called before the model is built (it needs the vocabulary)."""
        if self.cache is None:
            self.cache = build_cache(
                resolve_dataset(self.settings.name), window=self.settings.window, stride=self.settings.stride,
                validation_fraction=self.settings.validation_fraction,
            )
        return self.cache

    @property
    def num_ids(self) -> int:
        return self.prepare().manifest.vocabulary_size

    def class_counts(self) -> torch.Tensor:
        """(2,) normal and attack windows of the training split."""
        y = np.asarray(self.prepare().split("train").y)
        return torch.tensor([(y == 0).sum(), (y == 1).sum()], dtype=torch.float)

    def setup(self, stage: str | None = None) -> None:
        cache = self.prepare()
        generator = torch.Generator().manual_seed(self.training.seed)
        train = WindowGraphDataset(
            cache.split("train"), transform=Compose([RandomIdDropout(self.training.id_dropout, generator), SelfLoops()])
        )
        if self.normals_only:
            train = Subset(train, np.flatnonzero(np.asarray(cache.split("train").y) == 0).tolist())
        self.train_set = train
        self.val_set = WindowGraphDataset(cache.split("val"), transform=SelfLoops())

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.train_set, batch_size=self.training.batch_size, shuffle=True, num_workers=self.training.num_workers,
            generator=torch.Generator().manual_seed(self.training.seed),
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.training.batch_size, num_workers=self.training.num_workers)
