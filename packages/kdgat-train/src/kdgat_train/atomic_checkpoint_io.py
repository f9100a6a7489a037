"""`AtomicCheckpointIO`: Lightning checkpoints written whole or not at all, and resume that survives a
damaged ``last.ckpt``.

Lightning's default writer saves through fsspec's transaction, which stages the file in the system
temporary folder and moves it into the run folder: across file systems (a cluster scratch or NFS run
tree) that move is a copy, so a full disk or a kill during it left a truncated ``last.ckpt``, and
every later ``resume=`` or Slurm requeue failed. Here the checkpoint goes to a temporary file in its
own folder, is flushed to disk (fsync) and renamed over the old one: a reader sees the old file or the
new one, never half of one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from kdgat_train.checkpoint_state import CheckpointError, load_checkpoint_state
from kdgat_train.disk_space import no_space_error


class AtomicCheckpointIO(TorchCheckpointIO):
    """`TorchCheckpointIO` that writes each checkpoint to ``.NAME.tmp-PID`` beside it, fsyncs, then renames."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            with staging.open("wb") as handle:
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(staging, path)
        except BaseException as error:
            full = no_space_error(path, error, resume_dir=path.parent.parent) if isinstance(error, Exception) else None
            staging.unlink(missing_ok=True)
            if full is not None:
                raise full from error
            raise
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself reaches the disk
        finally:
            os.close(folder)


class ResumeError(RuntimeError):
    """No checkpoint of a run can be resumed from (the message says what to do)."""


def resume_checkpoint(last: Path, best: Path) -> Path | None:
    """The checkpoint a continuing run resumes from: ``last`` when it reads, else ``best`` (an earlier
    epoch, said in the log), else None when neither exists. A damaged ``last`` with no readable
    ``best`` is a `ResumeError` naming the file."""
    if not last.exists():
        return None
    try:
        load_checkpoint_state(last)
        return last
    except CheckpointError as damaged:
        try:
            load_checkpoint_state(best)
        except CheckpointError:
            raise ResumeError(f"{damaged}; no readable {best.name} to fall back to: delete {last} to start the "
                              "run over from epoch 1") from None
        logging.getLogger(__name__).warning("%s; resuming from %s (an earlier epoch) instead", damaged, best)
        return best
