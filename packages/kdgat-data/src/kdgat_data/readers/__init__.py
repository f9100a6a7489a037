"""Reader machinery every domain shares: the bad-row collector and its errors, the bad-row policy,
text and compression handling, attack names from paths and the time-order check.

Each domain's own readers live in its folder (`kdgat_data.domains.<domain>`). The names below load
on first use (PEP 562), so that importing one light module of this package (`bad_row_policy`, as the
dataset catalog does) does not import numpy and polars.
"""

from kdgat_data.lazy_exports import lazy_exports

_EXPORTS = {
    "CAPTURE_SUFFIXES": "text",
    "DataFormatError": "errors",
    "ReadReport": "errors",
    "OnBadRow": "bad_row_policy",
    "TimeOrder": "time_order",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
