"""Readers for CAN captures; each returns a `FrameTable` and a `ReadReport`."""

from kdgat_data.readers.column_mapped import ColumnMapping
from kdgat_data.readers.dispatch import CAPTURE_SUFFIXES, FORMATS, ReaderOptions, detect_format, read_frames
from kdgat_data.readers.errors import DataFormatError, OnBadRow, ReadReport

__all__ = [
    "CAPTURE_SUFFIXES",
    "FORMATS",
    "ColumnMapping",
    "DataFormatError",
    "OnBadRow",
    "ReadReport",
    "ReaderOptions",
    "detect_format",
    "read_frames",
]
