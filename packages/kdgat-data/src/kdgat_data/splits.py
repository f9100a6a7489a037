"""Leakage-free splits: validation is the time-contiguous tail of each training file.

Random window splits leak (overlapping windows and duplicated files put the same frames on both
sides); a tail block per file keeps every validation frame later in time than, and disjoint
from, the training frames of that file. Windows are built separately on each side.

A catalog entry may set the tail per file (``validation_fractions: {pattern: fraction}``, for a
file whose attacks all sit in its last fifth, say) or name whole validation files. With
``validation_block: head`` the block is the first part of each file instead (captures whose
attacks sit at their end leave a tail with hardly a normal window; a head block is held-out
normal traffic that thresholds can be read from). Either way it is one contiguous block per file,
disjoint from the training frames.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from kdgat_data.domains.base import RecordTable

VALIDATION_BLOCKS = ("tail", "head")


def validation_bounds(n: int, validation_fraction: float, block: str = "tail") -> tuple[tuple[int, int], tuple[int, int]]:
    """``((train_start, train_stop), (validation_start, validation_stop))`` record ranges of a file of
    ``n`` records whose validation ``block`` (``tail`` or ``head``) holds ``round(n * validation_fraction)``."""
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    if block not in VALIDATION_BLOCKS:
        raise ValueError(f"validation_block must be one of {', '.join(VALIDATION_BLOCKS)}, got {block!r}")
    n_validation = round(n * validation_fraction)
    if block == "head":
        return (n_validation, n), (0, n_validation)
    return (0, n - n_validation), (n - n_validation, n)


def split_train_validation(frames: RecordTable, validation_fraction: float,
                           block: str = "tail") -> tuple[RecordTable, RecordTable]:
    """``(training, validation)``: the validation ``block`` (the file's ``tail`` or ``head``) holds
    ``round(len(frames) * validation_fraction)`` records, training the rest."""
    (train_start, train_stop), (validation_start, validation_stop) = validation_bounds(len(frames), validation_fraction, block)
    return frames.slice(train_start, train_stop), frames.slice(validation_start, validation_stop)


def tail_fractions(training_files: list[str], default: float, overrides: dict[str, float] | None) -> dict[str, float]:
    """The validation tail fraction of each training file (paths relative to the dataset folder).

    Args:
        training_files: relative POSIX paths of the training files.
        default: the run's ``validation_fraction``.
        overrides: glob pattern -> fraction; the first pattern that matches a file wins.

    Raises:
        ValueError: a pattern that matches no training file (a typo would silently keep the default).
    """
    overrides = overrides or {}
    unused = [pattern for pattern in overrides if not any(fnmatchcase(f, pattern) for f in training_files)]
    if unused:
        raise ValueError(f"validation_fractions pattern {unused[0]!r} matches no training file; training files: "
                         f"{', '.join(training_files)}")
    fractions = {}
    for file in training_files:
        fractions[file] = next((f for pattern, f in overrides.items() if fnmatchcase(file, pattern)), default)
    return fractions
