"""polars, imported on first use: catalog parsing and CLI start-up never pay for it (~0.4 s)."""

from __future__ import annotations

import importlib
from typing import Any


class _LazyPolars:
    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("polars"), name)


pl: Any = _LazyPolars()
