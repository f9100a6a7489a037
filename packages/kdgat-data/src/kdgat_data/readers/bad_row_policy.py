"""`OnBadRow`: what a reader does with a malformed row (no heavy imports: the catalog uses it)."""

from enum import StrEnum


class OnBadRow(StrEnum):
    """What a reader does with a malformed row: stop with an error, or skip it and count it."""

    ERROR = "error"
    SKIP = "skip"
