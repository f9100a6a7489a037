"""`FusionDataModule`: fusion inputs of every split, computed once from the frozen VGAE and GAT."""

from __future__ import annotations

import lightning as L
import torch
from kdgat_data.cache import GraphCache
from torch.utils.data import DataLoader, TensorDataset

from kdgat_train.config.settings import TrainingSettings
from kdgat_train.fusion.inputs import AnomalyNormaliser, FusionInputs, fusion_inputs, raw_fusion_outputs
from kdgat_train.window_data_module import WindowGraphDataModule


class FusionDataModule(L.LightningDataModule):
    """Train/validation batches of `FusionInputs` for the DQN, and the inputs of any split for evaluation.

    Args:
        windows: the graph windows of the dataset (the same cache as the graph stages).
        training: batch size and seed.
        vgae, gat: the frozen networks whose outputs are fused.
    """

    def __init__(self, *, windows: WindowGraphDataModule, training: TrainingSettings, vgae, gat) -> None:
        super().__init__()
        self.windows, self.training, self.vgae, self.gat = windows, training, vgae, gat
        self._inputs: dict[str, FusionInputs] = {}
        self._normaliser: AnomalyNormaliser | None = None

    @property
    def evaluation_batch_size(self) -> int:
        """Windows per batch when the frozen VGAE and GAT score a split."""
        return self.windows.evaluation_batch_size

    def prepare(self) -> GraphCache:
        return self.windows.prepare()

    @property
    def num_ids(self) -> int:
        return self.windows.num_ids

    def class_counts(self) -> torch.Tensor:
        return self.windows.class_counts()

    def class_weights(self) -> torch.Tensor:
        """(2,) balanced weights of normal and attack windows: total / (2 x class count)."""
        counts = self.class_counts()
        return counts.sum() / (2 * counts.clamp_min(1))

    def normaliser(self) -> AnomalyNormaliser:
        """Empirical CDF of the VGAE score over the normal windows of the training split."""
        if self._normaliser is None:
            cache = self.prepare()
            _, raw, _, y = raw_fusion_outputs(self.vgae, self.gat, cache.split("train"), cache.manifest.window,
                                              self.evaluation_batch_size)
            self._normaliser = AnomalyNormaliser(raw[y == 0])
        return self._normaliser

    def inputs(self, split: str) -> FusionInputs:
        """Fusion inputs of ``split`` (``train``, ``val`` or ``test/<scenario>``), computed once."""
        if split not in self._inputs:
            cache = self.prepare()
            self._inputs[split] = fusion_inputs(self.vgae, self.gat, cache.split(split), self.normaliser(),
                                                cache.manifest.window, self.evaluation_batch_size)
        return self._inputs[split]

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.training.seed)
        return DataLoader(TensorDataset(*self.inputs("train").tensors()), batch_size=self.training.batch_size,
                          shuffle=True, generator=generator)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(*self.inputs("val").tensors()), batch_size=self.training.batch_size)
