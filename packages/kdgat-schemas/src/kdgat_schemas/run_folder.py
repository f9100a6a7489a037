"""`RunFolder`: the files of one run folder (DESIGN.md §6), the one place their names are spelled.

A run folder holds ``config.yaml`` (the resolved settings), ``run.json`` (`RunRecord`),
``metrics.json`` (the evaluation, with the threshold rule it chose on validation),
``scores.parquet`` (one row per window), ``checkpoints/best.ckpt`` and ``last.ckpt``, and
``cross/<dataset>/`` (cross-dataset evaluations). Every reader of those files goes through this
class, so a missing or broken file is one `RunFolderError` naming the file and what to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kdgat_schemas.atomic_write import atomic_write
from kdgat_schemas.run_record import RECORD_FILE, RunRecord


class RunFolderError(ValueError):
    """A run folder's file is missing or cannot be read (the message names the file)."""


@dataclass(frozen=True)
class RunFolder:
    """One run folder. ``RunFolder(path)``; ``path`` need not exist yet (a run being created)."""

    path: Path

    CONFIG = "config.yaml"
    RECORD = RECORD_FILE
    METRICS = "metrics.json"
    SCORES = "scores.parquet"
    CHECKPOINTS = "checkpoints"
    BEST = "best.ckpt"
    LAST = "last.ckpt"
    CROSS = "cross"

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))  # a str or any PathLike is taken

    # ---- where each file is -------------------------------------------------------------------
    @property
    def config_file(self) -> Path:
        return self.path / self.CONFIG

    @property
    def record_file(self) -> Path:
        return self.path / self.RECORD

    @property
    def metrics_file(self) -> Path:
        return self.path / self.METRICS

    @property
    def scores_file(self) -> Path:
        return self.path / self.SCORES

    @property
    def checkpoints(self) -> Path:
        return self.path / self.CHECKPOINTS

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / self.BEST

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / self.LAST

    def evaluated_checkpoint(self) -> Path:
        """The weights the run evaluated: the best checkpoint, or the last one where there is no best."""
        return self.best_checkpoint if self.best_checkpoint.is_file() else self.last_checkpoint

    def cross_folder(self, dataset: str) -> Path:
        """Where the run's evaluation on catalog dataset ``dataset`` is written."""
        return self.path / self.CROSS / dataset

    # ---- reading and writing ------------------------------------------------------------------
    def has_record(self) -> bool:
        return self.record_file.is_file()

    def read_record(self) -> RunRecord:
        """The run's `RunRecord`; a missing or broken run.json is a `RunFolderError`."""
        if not self.record_file.is_file():
            raise RunFolderError(f"{self.path}: no {self.RECORD} (not a run folder)")
        try:
            return RunRecord.model_validate_json(self.record_file.read_text())
        except (ValidationError, UnicodeDecodeError) as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise RunFolderError(f"{self.record_file}: broken run record ({first}); the run cannot be read: "
                                 "restore the file or delete the run folder") from None

    def is_completed(self) -> bool:
        """Whether run.json exists, reads and says COMPLETED."""
        try:
            return self.read_record().status == "COMPLETED"
        except RunFolderError:
            return False

    def write_record(self, record: RunRecord) -> Path:
        return record.write(self.path)

    def read_config(self) -> dict[str, Any]:
        """The resolved settings saved at the run's start (config.yaml), as a mapping."""
        if not self.config_file.is_file():
            raise RunFolderError(f"{self.path}: no {self.CONFIG} (not a run folder)")
        try:
            config = yaml.safe_load(self.config_file.read_text())
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise RunFolderError(f"{self.config_file}: not valid YAML ({type(error).__name__})") from None
        if not isinstance(config, dict):
            raise RunFolderError(f"{self.config_file}: expected a mapping of settings, found {type(config).__name__}")
        return config

    def write_config(self, config: dict[str, Any]) -> Path:
        return atomic_write(self.config_file, yaml.safe_dump(config, sort_keys=False))

    def has_metrics(self) -> bool:
        return self.metrics_file.is_file()

    def read_metrics(self) -> dict[str, Any]:
        """metrics.json: ``{split: {metric: value}, "threshold_rule": {...}}``."""
        if not self.metrics_file.is_file():
            raise RunFolderError(f"{self.path}: no {self.METRICS} (the run was not evaluated)")
        try:
            return json.loads(self.metrics_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise RunFolderError(f"{self.metrics_file}: not valid JSON ({error})") from None

    def write_metrics(self, metrics: dict[str, Any]) -> Path:
        return atomic_write(self.metrics_file, json.dumps(metrics, indent=2) + "\n")

    def threshold_rule(self) -> dict[str, Any]:
        """The threshold the run chose on validation (metrics.json's ``threshold_rule``)."""
        saved = self.read_metrics() if self.has_metrics() else {}
        if "threshold_rule" not in saved:
            raise RunFolderError(f"{self.metrics_file}: no threshold_rule, so no validation threshold; retrain the run")
        return saved["threshold_rule"]
