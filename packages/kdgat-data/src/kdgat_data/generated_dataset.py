"""Checks every synthetic generator makes before writing a dataset."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def check_new_dataset(root: Path, attacks: Sequence[str], known: Sequence[str], kind: str, overwrite: bool) -> None:
    """Refuse unknown attack names and a non-empty target folder (unless ``overwrite``)."""
    unknown = [a for a in attacks if a not in known]
    if unknown:
        raise ValueError(f"unknown {kind} attacks {unknown}; expected some of {', '.join(known)}")
    if root.exists() and any(root.iterdir()) and not overwrite:
        raise FileExistsError(f"{root} is not empty; pass overwrite=True")
