"""Reading text captures into polars columns of strings, keeping file line numbers."""

from __future__ import annotations

import csv
import gzip
import zlib
from pathlib import Path

import numpy as np

from kdgat_data.readers._polars import pl
from kdgat_data.readers.errors import DataFormatError

_LINE_SEPARATOR = "\x1f"  # a byte that never occurs in a capture: each line becomes one field
BYTE_ORDER_MARK = b"\xef\xbb\xbf"  # UTF-8 BOM, written by spreadsheet exports
COMPRESSED_SUFFIX = ".gz"  # any capture may be gzip-compressed: ``capture.csv.gz``


CAPTURE_SUFFIXES = {".csv", ".log", ".asc", ".blf", ".txt", ".trc", ".labeled"}  # of every domain; .labeled: Zeek conn.log.labeled

def capture_suffix(path: str | Path) -> str:
    """The capture's own suffix, looking through a ``.gz``: ``a.csv.gz`` -> ``.csv``."""
    path = Path(path)
    if path.suffix.lower() == COMPRESSED_SUFFIX:
        path = path.with_suffix("")
    return path.suffix.lower()


def is_compressed(path: str | Path) -> bool:
    return Path(path).suffix.lower() == COMPRESSED_SUFFIX


def check_not_empty(path: Path) -> None:
    if not path.is_file():
        raise DataFormatError(path, "no such file")
    if path.stat().st_size == 0:
        raise DataFormatError(path, "the file is empty; expected CAN frames")


def capture_bytes(path: Path) -> bytes:
    """The whole content of a capture, decompressed when it ends in ``.gz``, without a UTF-8 BOM.

    Raises:
        DataFormatError: the file is missing or empty, or its gzip stream is truncated or corrupt.
    """
    path = Path(path)
    check_not_empty(path)
    raw = path.read_bytes()
    if is_compressed(path):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DataFormatError(path, f"not a complete gzip file ({error}): re-download or re-compress it") from None
        if not raw:
            raise DataFormatError(path, "the file is empty once decompressed")
    return raw.removeprefix(BYTE_ORDER_MARK)


def capture_source(path: Path) -> Path | bytes:
    """What polars should read: the path itself, or the decompressed bytes of a ``.gz`` capture."""
    return capture_bytes(path) if is_compressed(path) else path


def first_line(path: Path) -> str:
    """The first non-blank line of a text capture ('' if none), through gzip and without a BOM."""
    path = Path(path)
    try:
        with (gzip.open(path, "rb") if is_compressed(path) else path.open("rb")) as handle:
            for raw in handle:
                text = raw.removeprefix(BYTE_ORDER_MARK).decode("utf-8", errors="replace").strip()
                if text:
                    return text
    except (OSError, EOFError, zlib.error) as error:
        raise DataFormatError(path, f"not a complete gzip file ({error}): re-download or re-compress it") from None
    return ""


def read_header_csv(path: Path, separator: str = ",") -> tuple[pl.DataFrame, np.ndarray]:
    """A CSV with a header line, every column as text.

    Returns:
        the frame without blank lines, and the 1-based file line of each remaining row.
    """
    check_not_empty(path)
    try:
        frame = pl.read_csv(capture_source(path), separator=separator, infer_schema=False, quote_char=None)
    except pl.exceptions.PolarsError as error:
        raise DataFormatError(path, f"not a well-formed CSV: {error}".splitlines()[0]) from None
    return _drop_blank_rows(frame, first_data_line=2)


def read_lines(path: Path) -> tuple[pl.Series, np.ndarray]:
    """Each non-blank line as a string, and its 1-based line number."""
    check_not_empty(path)
    frame = pl.read_csv(
        capture_source(path), has_header=False, separator=_LINE_SEPARATOR, quote_char=None,
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


def may_hold_padding(raw: bytes, separator: bytes) -> bool:
    """Whether a field of ``raw`` could start or end with whitespace: anything but plain ASCII without
    spaces, form feeds, vertical tabs, carriage returns or (unless they separate fields) tabs."""
    if any(mark in raw for mark in (b" ", b"\x0b", b"\x0c", b"\r")) or (separator != b"\t" and b"\t" in raw):
        return True
    return bool(len(raw)) and int(np.frombuffer(raw, np.uint8).max()) >= 128  # Unicode spaces are not ASCII


def delimited_fields(path: Path, fmt: str, keep=None, strip: bool = False) -> tuple[list[str], pl.DataFrame]:
    """``(header, rows)``: one row per data line with its 1-based ``line``, its field count ``width`` and
    the fields as strings ``c0 .. c{len(header)-1}`` (null where a short line has none). Zeek: tab-separated,
    ``#`` lines skipped, the header from ``#fields``; CSV: comma-separated, header on line 1. ``keep(header)``
    names the column indices to parse (default: all); the fast path leaves the others out. A file holding
    a double quote (a quoted field may hold a separator) is parsed line by line with the csv module.
    ``strip``: fields without surrounding whitespace (skipped on a file that cannot hold any)."""
    header, rows, padded = _delimited_fields(path, fmt, keep)
    if strip and padded:
        rows = rows.with_columns(pl.col(c).str.strip_chars() for c in rows.columns if c.startswith("c"))
    return header, rows


def _delimited_fields(path: Path, fmt: str, keep) -> tuple[list[str], pl.DataFrame, bool]:
    raw = capture_bytes(path)
    separator = b"\t" if fmt == "zeek" else b","
    data = np.frombuffer(raw, np.uint8)
    newlines = np.flatnonzero(data == 10)
    starts = np.concatenate([[0], newlines + 1])
    ends = np.concatenate([newlines, [len(data)]])
    if len(raw) and raw.endswith(b"\n"):  # no line after the last newline
        starts, ends = starts[:-1], ends[:-1]
    ends = ends - ((ends > starts) & (data[np.maximum(ends - 1, 0)] == 13))  # CRLF
    first = np.where(ends > starts, data[np.minimum(starts, max(len(data) - 1, 0))], 0)
    if fmt == "zeek":
        field_lines = [i for i in np.flatnonzero(first == ord("#")) if raw[starts[i]:starts[i] + 7] == b"#fields"]
        if not field_lines:
            raise DataFormatError(path, "no #fields line: expected a Zeek conn.log header")
        header = raw[starts[field_lines[0]]:ends[field_lines[0]]].decode(errors="replace").split("\t")[1:]
        is_data = (ends > starts) & (first != ord("#"))
    else:
        header = [c.strip() for c in next(csv.reader([raw[:ends[0]].decode(errors="replace")]), [])] if len(starts) else []
        is_data = (ends > starts) & (np.arange(len(starts)) >= 1)
    names = [f"c{i}" for i in range(len(header))]
    if b'"' not in raw and len(header):  # the fast path: polars' CSV reader, one row per line
        skip = int(np.argmax(is_data)) if is_data.any() else len(starts)  # header and leading # lines
        wanted = sorted({*(keep(header) if keep else range(len(names))), len(names) - 1})
        frame = pl.read_csv(raw, has_header=False, skip_rows=skip, separator=separator.decode(), quote_char=None,
                            infer_schema=False, schema=dict.fromkeys(names, pl.String), truncate_ragged_lines=True,
                            encoding="utf8-lossy", columns=wanted)
        if frame.height == len(starts) - skip:
            # a line can be short only where its last field came back null: count separators there alone
            width = np.full(frame.height, len(header), np.int64)
            for row in np.flatnonzero(frame[names[-1]].is_null().to_numpy()):
                width[row] = raw[starts[skip + row]:ends[skip + row]].count(separator) + 1
            rows = frame.with_columns(line=pl.Series(np.arange(skip + 1, len(starts) + 1, dtype=np.int64)),
                                      width=pl.Series(width))
            return header, rows.filter(pl.Series(is_data[skip:])), may_hold_padding(raw, separator)
    # quoted fields (which may hold a separator) or an unexpected layout: the csv module, line by line
    text = raw.decode(errors="replace").split("\n")
    lines = [(number, line.rstrip("\r")) for number, line in enumerate(text, 1) if number - 1 < len(starts) and is_data[number - 1]]
    parsed = [line.split("\t") if fmt == "zeek" else next(csv.reader([line])) for _, line in lines]
    rows = pl.DataFrame({"line": [n for n, _ in lines], "width": [len(f) for f in parsed],
                         **{name: [f[i] if i < len(f) else None for f in parsed] for i, name in enumerate(names)}},
                        schema={"line": pl.Int64, "width": pl.Int64, **dict.fromkeys(names, pl.String)})
    return header, rows, may_hold_padding(raw, separator)
