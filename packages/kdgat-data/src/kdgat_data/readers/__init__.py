"""Readers for CAN captures; each returns a `FrameTable` and a `ReadReport`.

The names below load on first use (PEP 562), so that importing one light module of this package
(`column_mapping`, `bad_row_policy`, as the dataset catalog does) does not import numpy and polars.
"""

from importlib import import_module

_EXPORTS = {
    "CAPTURE_SUFFIXES": "dispatch",
    "FORMATS": "dispatch",
    "ReaderOptions": "dispatch",
    "detect_format": "dispatch",
    "read_frames": "dispatch",
    "ColumnMapping": "column_mapping",
    "DataFormatError": "errors",
    "ReadReport": "errors",
    "OnBadRow": "bad_row_policy",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
