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


GZIP_MAGIC = b"\x1f\x8b"


def is_compressed(path: str | Path) -> bool:
    """Named ``.gz``, or gzip by its first bytes whatever its name (``capture.csv`` that is gzip: polars
    would decompress it silently and report a truncated one without its name)."""
    path = Path(path)
    if path.suffix.lower() == COMPRESSED_SUFFIX:
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(2) == GZIP_MAGIC
    except OSError:
        return False


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


def may_hold_padding(raw: bytes, separator: bytes, start: int = 0) -> bool:
    """Whether a field of ``raw[start:]`` could start or end with whitespace: anything but plain ASCII
    without spaces, form feeds, vertical tabs, carriage returns or (unless they separate fields) tabs."""
    marks = (b" ", b"\x0b", b"\x0c", b"\r", *((b"\t",) if separator != b"\t" else ()))
    if any(raw.find(mark, start) >= 0 for mark in marks):
        return True
    return len(raw) > start and int(np.frombuffer(raw, np.uint8)[start:].max()) >= 128  # Unicode spaces are not ASCII


UNSET_NUMBER = "-"  # Zeek's unset field; read as null in the columns parsed as numbers


def delimited_fields(path: Path, fmt: str, keep=None, strip: bool = False,
                     numbers=None) -> tuple[list[str], pl.DataFrame]:
    """``(header, rows)``: one row per data line with its 1-based ``line``, its field count ``width`` and
    the fields as strings ``c0 .. c{len(header)-1}`` (null where a short line has none). Zeek: tab-separated,
    ``#`` lines skipped, the header from ``#fields``; CSV: comma-separated, header on line 1. ``keep(header)``
    names the column indices to parse (default: all); the fast path leaves the others out. A file holding
    a double quote (a quoted field may hold a separator) is parsed line by line with the csv module.
    ``strip``: fields without surrounding whitespace (skipped on a file that cannot hold any).

    ``numbers(header)`` names columns to parse straight to Float64 (null for an empty field, a missing
    one and ``-``), which saves the string copies of a large file. It is only tried on the fast path of
    a file that cannot hold padding, and the whole file falls back to strings when any such field is not
    a number: the caller reads the dtype (``Float64`` or ``String``) from ``rows.schema``."""
    header, rows, padded = _delimited_fields(path, fmt, keep, numbers)
    if strip and padded:
        rows = rows.with_columns(pl.col(c).str.strip_chars() for c in rows.columns if c.startswith("c"))
    return header, rows


def _delimited_fields(path: Path, fmt: str, keep, numbers) -> tuple[list[str], pl.DataFrame, bool]:
    """``delimited_fields`` before stripping, and whether a data line may hold padding."""
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
    data_lines = np.flatnonzero(is_data)
    skip = int(data_lines[0]) if len(data_lines) else len(starts)  # header and leading # lines
    stop = int(data_lines[-1]) + 1 if len(data_lines) else len(starts)  # trailing # lines (Zeek's #close)
    padded = may_hold_padding(raw, separator, start=int(starts[skip]) if skip < len(starts) else len(raw))  # not the header
    if b'"' not in raw and len(header):  # the fast path: polars' CSV reader, one row per line
        wanted = sorted({*(keep(header) if keep else range(len(names))), len(names) - 1})
        numeric = sorted({names[i] for i in (numbers(header) if numbers else ())} - {names[-1]})  # width reads the last as text
        between = is_data[skip:stop]
        end = len(raw) if stop == len(starts) else int(starts[stop])  # copies the bytes only before trailing lines
        frame = None
        if numeric and between.all() and not padded:  # a # or blank line would not parse as numbers
            try:
                frame = _read_fields(raw, skip, stop, end, separator, names, wanted, numeric)
            except pl.exceptions.ComputeError:  # a field that is no number: read every field as text
                frame = None
        if frame is None:
            frame = _read_fields(raw, skip, stop, end, separator, names, wanted, [])
        if frame.height == stop - skip:
            # a line can be short only where its last field came back null: count separators there alone
            width = np.full(frame.height, len(header), np.int64)
            for row in np.flatnonzero(frame[names[-1]].is_null().to_numpy()):
                width[row] = raw[starts[skip + row]:ends[skip + row]].count(separator) + 1
            rows = frame.with_columns(line=pl.Series(np.arange(skip + 1, stop + 1, dtype=np.int64)),
                                      width=pl.Series(width))
            return header, rows if between.all() else rows.filter(pl.Series(between)), padded
    # quoted fields (which may hold a separator) or an unexpected layout: the csv module, line by line
    text = raw.decode(errors="replace").split("\n")
    lines = [(number, line.rstrip("\r")) for number, line in enumerate(text, 1) if number - 1 < len(starts) and is_data[number - 1]]
    parsed = [line.split("\t") if fmt == "zeek" else next(csv.reader([line])) for _, line in lines]
    rows = pl.DataFrame({"line": [n for n, _ in lines], "width": [len(f) for f in parsed],
                         **{name: [f[i] if i < len(f) else None for f in parsed] for i, name in enumerate(names)}},
                        schema={"line": pl.Int64, "width": pl.Int64, **dict.fromkeys(names, pl.String)})
    return header, rows, padded


def _read_fields(raw: bytes, skip: int, stop: int, end: int, separator: bytes, names: list[str],
                 wanted: list[int], numeric: list[str]) -> pl.DataFrame:
    """Polars' CSV reader on lines ``skip`` to ``stop`` (0-based, stop excluded), which end at byte
    ``end`` (the parser reads past ``n_rows``: a trailing ``#close`` must not reach a number column):
    the ``numeric`` columns as Float64, the others as text."""
    schema = {**dict.fromkeys(names, pl.String), **dict.fromkeys(numeric, pl.Float64)}
    return pl.read_csv(raw[:end], has_header=False, skip_rows=skip, n_rows=stop - skip, separator=separator.decode(),
                       quote_char=None, infer_schema=False, schema=schema, truncate_ragged_lines=True,
                       encoding="utf8-lossy", columns=wanted,
                       null_values=dict.fromkeys(numeric, UNSET_NUMBER) or None)
