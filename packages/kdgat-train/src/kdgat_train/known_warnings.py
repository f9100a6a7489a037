"""Warnings that say nothing to a kdgat user, silenced only while a run fits, is exported or is loaded by the
detector (never by importing kdgat)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

KNOWN_WARNINGS = (
    r"`torch.jit.script` is deprecated",  # torch_geometric scripts a few helpers when it is imported
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",  # Lightning's own use of torch's pytree
    # a local run on a machine that has Slurm: Lightning suggests srun, but local runs are meant to be local
    r"The `srun` command is available on your system but is not used",
    # WindowBatches gives each DataLoader worker its own share of the batches, so its __len__ is exact
    r"Your `IterableDataset` has `__len__` defined",
    # the fusion DQN keeps its target network in eval mode on purpose
    r"Found \d+ module\(s\) in eval mode at the start of training",
)


@contextmanager
def quiet_known_warnings() -> Iterator[None]:
    """Inside the block, the `KNOWN_WARNINGS` are ignored; every other warning still shows."""
    with warnings.catch_warnings():
        for message in KNOWN_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        yield
