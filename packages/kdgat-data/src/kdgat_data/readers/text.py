"""Reading text captures into polars columns of strings, keeping file line numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kdgat_data.readers._polars import pl
from kdgat_data.readers.errors import DataFormatError

_LINE_SEPARATOR = "\x1f"  # a byte that never occurs in a capture: each line becomes one field


def check_not_empty(path: Path) -> None:
    if not path.is_file():
        raise DataFormatError(path, "no such file")
    if path.stat().st_size == 0:
        raise DataFormatError(path, "the file is empty; expected CAN frames")


def first_line(path: Path) -> str:
    """The first non-blank line of a text file ('' if none)."""
    with path.open("rb") as handle:
        for raw in handle:
            text = raw.decode("utf-8", errors="replace").strip()
            if text:
                return text
    return ""


def read_header_csv(path: Path, separator: str = ",") -> tuple[pl.DataFrame, np.ndarray]:
    """A CSV with a header line, every column as text.

    Returns:
        the frame without blank lines, and the 1-based file line of each remaining row.
    """
    check_not_empty(path)
    try:
        frame = pl.read_csv(path, separator=separator, infer_schema=False, quote_char=None)
    except pl.exceptions.PolarsError as error:
        raise DataFormatError(path, f"not a well-formed CSV: {error}".splitlines()[0]) from None
    return _drop_blank_rows(frame, first_data_line=2)


def read_lines(path: Path) -> tuple[pl.Series, np.ndarray]:
    """Each non-blank line as a string, and its 1-based line number."""
    check_not_empty(path)
    frame = pl.read_csv(
        path, has_header=False, separator=_LINE_SEPARATOR, quote_char=None,
        infer_schema=False, new_columns=["line"],
    )
    frame, lines = _drop_blank_rows(frame, first_data_line=1)
    return frame["line"], lines


def split_fields(lines: pl.Series, separator: str | None) -> pl.Series:
    """Split lines into a list column; ``None`` splits on runs of whitespace."""
    if separator is None:
        return lines.str.strip_chars().str.replace_all(r"\s+", " ").str.split(" ")
    return lines.str.strip_chars().str.split(separator).list.eval(pl.element().str.strip_chars())


def _drop_blank_rows(frame: pl.DataFrame, first_data_line: int) -> tuple[pl.DataFrame, np.ndarray]:
    line_numbers = np.arange(frame.height, dtype=np.int64) + first_data_line
    blank = frame.select(pl.all_horizontal(pl.all().is_null() | (pl.all().str.strip_chars() == ""))).to_series()
    if blank.any():
        keep = (~blank).to_numpy()
        frame = frame.filter(~blank)
        line_numbers = line_numbers[keep]
    return frame, line_numbers
