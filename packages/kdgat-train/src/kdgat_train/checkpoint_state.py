"""`load_checkpoint_state`: the weights of a run's checkpoint, loaded without running any code from it.

A checkpoint is a pickle. The KD teacher, the curriculum's VGAE and the fused networks are found
automatically in a shared run tree (the latest completed run), so one crafted ``best.ckpt`` written
into ``experimentruns/`` would otherwise run its payload in every student that picks that run.
Checkpoints are therefore loaded with ``torch.load(weights_only=True)`` everywhere: tensors and
primitive containers only; anything else is refused with an error naming the file. (Lightning's own
resume from ``last.ckpt`` is given ``weights_only=True`` as well.)
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from kdgat_train.plain_text import first_line


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be loaded safely: not a checkpoint, truncated, or holding code."""


def load_checkpoint_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of the Lightning checkpoint at ``path`` (CPU tensors).

    Raises:
        CheckpointError: the file is missing, truncated or not a checkpoint, or it holds objects
            other than tensors and primitives (refused unopened: it may be crafted to run code).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        reason = first_line(str(error), 300)
        raise CheckpointError(
            f"{path}: refused to load: it holds objects other than tensors and primitives, which could run code "
            f"({reason}); retrain that run or delete the file if you did not write it") from None
    except (EOFError, RuntimeError, zipfile.BadZipFile, OSError) as error:
        raise CheckpointError(f"{path}: not a readable checkpoint ({first_line(str(error))}); "
                              "it may be truncated: retrain that run") from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise CheckpointError(f"{path}: not a Lightning checkpoint (no state_dict)")
    return checkpoint["state_dict"]
