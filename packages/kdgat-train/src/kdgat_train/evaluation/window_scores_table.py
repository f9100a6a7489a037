"""``scores.parquet``: every evaluated window's score, threshold and prediction (one row per window).

Columns: split, source (file path as in the manifest), window (index within the split), first_record,
last_record, start_time, end_time, label, attack_type (name), score, threshold, prediction. Per-hour,
per-event or external analysis then needs no code that reloads a checkpoint, and the metrics of
metrics.json can be recomputed from it (`kdgat_train.evaluation.metrics.binary_metrics`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from kdgat_schemas import RunFolder

SCORES_FILE = RunFolder.SCORES


def window_rows(split: str, arrays, manifest, scores: np.ndarray, threshold: float) -> dict[str, np.ndarray]:
    """The columns of one split (``arrays``: its `GraphArrays`; ``manifest``: the cache's `DatasetManifest`)."""
    g = len(scores)
    if len(arrays) != g:
        raise ValueError(f"{split}: {g} scores for {len(arrays)} windows")
    paths = np.array([source.path for source in manifest.sources] or [""], dtype=object)
    names = np.array(manifest.attack_types, dtype=object)
    scores = np.asarray(scores, np.float64)
    return {
        "split": np.full(g, split, dtype=object), "source": paths[np.asarray(arrays.source, np.int64)],
        "window": np.arange(g, dtype=np.int64), "first_record": np.asarray(arrays.window_start, np.int64),
        "last_record": np.asarray(arrays.window_stop, np.int64) - 1,
        "start_time": np.asarray(arrays.start_time, np.float64), "end_time": np.asarray(arrays.end_time, np.float64),
        "label": np.asarray(arrays.y, np.int8), "attack_type": names[np.asarray(arrays.attack_type, np.int64)],
        "score": scores, "threshold": np.full(g, threshold, np.float64), "prediction": (scores > threshold).astype(np.int8),
    }


def write_scores(path: Path, parts: list[dict[str, np.ndarray]]) -> Path:
    """Write the rows of every split to ``path`` (a temporary name, then renamed)."""
    frame = pl.concat([pl.DataFrame({key: list(value) if value.dtype == object else value for key, value in part.items()})
                       for part in parts]) if parts else pl.DataFrame()
    temporary = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(temporary)
    temporary.replace(path)
    return path


__all__ = ["SCORES_FILE", "window_rows", "write_scores"]
