"""Errors and the bad-row policy shared by every reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kdgat_data.readers.bad_row_policy import OnBadRow

MAX_MESSAGE_CHARS = 600  # a 10 MB bad field must not become a 10 MB error line


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut in the middle to at most about ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[-(limit // 3):]
    return f"{head}...[{len(text) - len(head) - len(tail)} characters cut]...{tail}"


class DataFormatError(ValueError):
    """Bad input, with the file, the line and what was expected.

    Long messages (a huge quoted field) are cut in the middle, keeping the start and the advice at
    the end.

    Attributes:
        path: the file.
        line: 1-based line number, or ``None`` when the problem is the whole file.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {shorten(message)}")


@dataclass
class BadRows:
    """Collects per-row problems found by vectorised checks, then raises or drops them.

    Args:
        path: the file being read.
        line_numbers: the 1-based file line of each row.
    """

    path: str
    line_numbers: np.ndarray
    bad: np.ndarray = field(init=False)
    problems: list[tuple[np.ndarray, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bad = np.zeros(len(self.line_numbers), bool)

    def add(self, mask: np.ndarray, problem_at: callable) -> None:
        """Mark rows where ``mask`` is true; ``problem_at(row)`` describes the problem of one row."""
        mask = np.asarray(mask, bool)
        if mask.any():
            self.bad |= mask
            self.problems.append((mask, problem_at))

    def resolve(self, policy: OnBadRow) -> tuple[np.ndarray, int]:
        """Raise on the earliest bad row (policy error) or return ``(keep_mask, skipped)``."""
        if not self.bad.any():
            return np.ones(len(self.line_numbers), bool), 0
        if OnBadRow(policy) is OnBadRow.ERROR:
            first = min(int(np.argmax(mask)) for mask, _ in self.problems)
            messages = [describe(first) for mask, describe in self.problems if mask[first]]
            raise DataFormatError(
                self.path,
                "; ".join(messages) + " (use --on-bad-row skip to skip such rows)",
                line=int(self.line_numbers[first]),
            )
        if self.bad.all():
            raise DataFormatError(self.path, f"all {len(self.bad)} rows are malformed; expected at least one valid frame")
        return ~self.bad, int(self.bad.sum())


@dataclass(frozen=True)
class ReadReport:
    """What a reader did besides returning frames.

    Attributes:
        lines: the 1-based file line of each returned record (text formats), for messages.
        reordered_frames: records moved by sorting a capture that went back in time.
    """

    path: str
    format: str
    rows: int
    skipped_rows: int = 0
    lines: np.ndarray | None = field(default=None, compare=False, repr=False)
    reordered_frames: int = 0
