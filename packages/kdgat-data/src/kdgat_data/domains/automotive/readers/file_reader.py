"""`FileReader`: how to read the files of a dataset that match some patterns, when one dataset
mixes capture formats (a model trained on one vehicle's ROAD captures and tested on another
vehicle's can-train-and-test or DAGA-style files, in one pipeline).

A catalog entry lists them under ``readers``; the first entry whose pattern matches a file decides
how that file is read, and files no pattern matches use the entry's own ``format`` / ``mapping``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kdgat_data.domains.automotive.readers.column_mapping import ColumnMapping

FORMATS = ("can_train_test", "car_hacking", "column_mapped", "road", "crysys", "candump_screen", "python_can")
# what users call the logs that python-can reads: `candump -l` log files, Vector ASC and BLF
FORMAT_ALIASES = {"candump": "python_can", "candump_log": "python_can", "asc": "python_can", "blf": "python_can"}


def known_format(value: str | None) -> str | None:
    """The reader format ``value`` names (one of `FORMATS`, or an alias such as ``candump``), or ``None``
    (detect per file); else a ValueError naming the formats."""
    if value is None or value in FORMATS:
        return value
    if value in FORMAT_ALIASES:
        return FORMAT_ALIASES[value]
    raise ValueError(f"unknown format {value!r}; expected one of {', '.join(FORMATS)} (candump -l logs, ASC and BLF: "
                     f"{', '.join(FORMAT_ALIASES)}, all read by python-can)")


class FileReader(BaseModel):
    """Reader settings of the files matching ``files`` (glob patterns relative to the dataset folder)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: list[str] = Field(min_length=1, description="glob patterns relative to the dataset folder")
    format: str | None = Field(None, description="reader format; detected per file when absent")
    mapping: ColumnMapping | None = None
    attack_ids: list[int | str] | None = Field(None, description="label rule for unlabelled logs (hex IDs)")
    attack_type: str | None = Field(None, description="attack name of 0/1 or True/False labelled files "
                                                      "(default: from the file or its scenario folder)")

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        return known_format(value)

    def matches(self, path: str | Path) -> bool:
        """Whether ``path`` (absolute, or relative to the dataset folder) matches one of the patterns."""
        posix = Path(path).as_posix()
        return any(fnmatchcase(posix, pattern) or fnmatchcase(posix, f"*/{pattern}") for pattern in self.files)
