"""`RunMetricsLogger`: the one Lightning logger of a run; each epoch's metrics go to its `TrackedRun`,
which sends them to MLflow (through the tracking helper when one runs) or, with ``tracking=offline``,
into the run folder for `kdgat-runs ingest`."""

from __future__ import annotations

import re

from lightning.pytorch.loggers.logger import Logger
from lightning.pytorch.utilities import rank_zero_only

from kdgat_train.tracked_run import TrackedRun

# the characters MLflow accepts in a metric name (Lightning's MLFlowLogger drops the others too)
_NOT_IN_METRIC_NAME = re.compile("[^a-zA-Z0-9_/. -]+")


class RunMetricsLogger(Logger):
    """Lightning's per-step and per-epoch metrics of one run, handed to ``run`` (rank 0 only).

    Args:
        run: the run being trained; its folder name is the logger's version.
    """

    def __init__(self, *, run: TrackedRun) -> None:
        super().__init__()
        self._run = run

    @property
    def name(self) -> str:
        return "kdgat"

    @property
    def version(self) -> str:
        return self._run.run_dir.name

    @rank_zero_only
    def log_hyperparams(self, params, *args, **kwargs) -> None:  # the run's flat config is logged when it starts
        return None

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        clean = {_NOT_IN_METRIC_NAME.sub("", key): float(value) for key, value in metrics.items()
                 if not isinstance(value, str)}
        self._run.log_epoch_metrics(clean, step or 0)
