"""Format detection and the single entry point `read_frames`."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.automotive.readers.can_train_test import read_can_train_test
from kdgat_data.domains.automotive.readers.candump import read_candump_screen, read_python_can_log
from kdgat_data.domains.automotive.readers.car_hacking import read_car_hacking
from kdgat_data.domains.automotive.readers.column_mapped import read_column_mapped
from kdgat_data.domains.automotive.readers.column_mapping import CRYSYS, ROAD, ColumnMapping
from kdgat_data.domains.automotive.readers.file_reader import FORMATS, FileReader, known_format
from kdgat_data.readers.attack_names import attack_type_from_path
from kdgat_data.readers.errors import DataFormatError, OnBadRow, ReadReport
from kdgat_data.readers.text import capture_suffix, check_not_empty, first_line
from kdgat_data.readers.time_order import TimeOrder, order_by_time

BUILTIN_MAPPINGS = {"road": ROAD, "crysys": CRYSYS}
# formats recognised by the column names of their header line (any order, case and spacing)
HEADER_COLUMNS = {
    "can_train_test": ("timestamp", "arbitration_id", "data_field", "attack"),
    "road": ("time", "id", *(f"byte{k}" for k in range(1, 9)), "label"),
}


class ReaderOptions(BaseModel):
    """How to read the files of one dataset (a catalog entry carries these).

    Args:
        format: one of FORMATS, or ``None`` to detect it per file.
        mapping: the column mapping for ``column_mapped``.
        attack_ids: label rule for unlabelled logs: frames with these IDs are attacks.
        attack_type: name for attack frames of 0/1-labelled files; ``None`` derives it from the path.
        on_bad_row: ``error`` stops at the first malformed row, ``skip`` drops and counts them.
        time_order: frames out of time order: ``sort`` them stably (logged with a count) or ``error``
            naming the first file line that goes back in time.
        files: per-file-pattern readers for a dataset that mixes formats; the first that matches a
            file replaces ``format``, ``mapping``, ``attack_ids`` and ``attack_type`` for it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str | None = None
    mapping: ColumnMapping | None = None
    attack_ids: list[int] | None = None
    attack_type: str | None = None
    on_bad_row: OnBadRow = OnBadRow.ERROR
    time_order: TimeOrder = TimeOrder.SORT
    files: list[FileReader] | None = None

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        return known_format(value)

    @field_validator("attack_ids", mode="before")
    @classmethod
    def _hex_ids(cls, value):
        if value is None:
            return None
        return [int(v, 16) if isinstance(v, str) else int(v) for v in value]

    def for_file(self, path: str | Path) -> ReaderOptions:
        """The options that read ``path``: the first matching per-file reader, else these."""
        for reader in self.files or []:
            if reader.matches(path):
                return ReaderOptions(format=reader.format, mapping=reader.mapping, attack_ids=reader.attack_ids,
                                     attack_type=reader.attack_type, on_bad_row=self.on_bad_row,
                                     time_order=self.time_order)
        return self.model_copy(update={"files": None})

    def fingerprint(self) -> dict[str, str]:
        """The options that change what is read, for the cache key."""
        data = self.model_dump(mode="json", exclude_none=True)
        if self.time_order is TimeOrder.SORT:
            data.pop("time_order")  # the default: caches built before the option keep their key
        return {key: str(value) for key, value in sorted(data.items())}


VECTOR_LOG_SUFFIXES = {".asc", ".blf"}  # Vector logs name their format: python-can reads them


def detect_format(path: str | Path) -> str:
    """Guess the format of one capture from its extension and first line."""
    path = Path(path)
    check_not_empty(path)
    if capture_suffix(path) in VECTOR_LOG_SUFFIXES:
        return "python_can"
    line = first_line(path)
    compact = line.replace(" ", "").lower()
    names = set(compact.split(","))
    for fmt, expected in HEADER_COLUMNS.items():
        if names >= set(expected):
            return fmt
    for fmt, expected in HEADER_COLUMNS.items():
        missing = [name for name in expected if name not in names]
        if len(missing) <= len(expected) // 2:
            raise DataFormatError(path, f"a {fmt} header without column(s) {', '.join(missing)}: expected the columns "
                                  f"{','.join(expected)}, found {line[:200]!r}", line=1)
    if compact.startswith("timestamp,canid,dlc") or re.match(r"^[0-9.]+,\s*[0-9a-fA-F]+,\s*\d,", line):
        return "car_hacking"
    if re.match(r"^\(\s*[0-9.]+\)\s+\S+\s+[0-9A-Fa-f]+\s+\[\d+\]", line):
        return "candump_screen"
    if re.match(r"^\([0-9.]+\)\s+\S+\s+[0-9A-Fa-f]+#", line):
        return "python_can"
    if re.match(r"^[0-9.]+\s+[0-9a-fA-F]+\s+[0-9a-fA-F]+\s+\d\s", line):
        return "crysys"
    raise DataFormatError(
        path,
        f"unknown capture format (first line {line[:80]!r}); expected one of {', '.join(FORMATS)}: "
        "give it with --format, or register a column mapping in configs/datasets.yaml",
        line=1,
    )


def read_frames(path: str | Path, options: ReaderOptions | None = None) -> tuple[FrameTable, ReadReport]:
    """Read one capture file into a `FrameTable`, detecting the format unless ``options`` names it."""
    path = Path(path)
    options = (options or ReaderOptions()).for_file(path)
    fmt = options.format or detect_format(path)
    attack_type = options.attack_type or attack_type_from_path(path)
    common = {"on_bad_row": options.on_bad_row, "attack_type": attack_type}
    if fmt == "can_train_test":
        table, report = read_can_train_test(path, **common)
    elif fmt == "car_hacking":
        table, report = read_car_hacking(path, **common)
    elif fmt in BUILTIN_MAPPINGS or fmt == "column_mapped":
        mapping = options.mapping or BUILTIN_MAPPINGS.get(fmt)
        if mapping is None:
            raise DataFormatError(path, "format column_mapped needs a column mapping (see configs/datasets.yaml)")
        table, report = read_column_mapped(path, mapping, **common)
    elif fmt == "candump_screen":
        table, report = read_candump_screen(path, attack_ids=options.attack_ids, **common)
    elif fmt == "python_can":
        table, report = read_python_can_log(path, attack_ids=options.attack_ids, **common)
    else:
        raise DataFormatError(path, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return order_by_time(table, report, options.time_order)


__all__ = ["FORMATS", "VECTOR_LOG_SUFFIXES", "ReaderOptions", "ReadReport", "detect_format", "read_frames"]
