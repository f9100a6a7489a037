"""MLflow in a helper process: importing MLflow and talking to its database run beside training.

Importing MLflow takes 2.5-3 s on the project's 2-core VM (its package imports its GenAI, artifact
and data modules whatever one uses), and a quick one-epoch check trains for less than that (issue
18). So a training process with ``tracking=mlflow`` starts one helper process as soon as its config
is valid, before torch is imported; the helper imports MLflow on the second core while the trainer
imports torch, Lightning and PyG, and then makes every MLflow call of the process, in the order
they were made: `kdgat_train.tracking`'s functions by name (`call` waits for the result, `send`
does not) and the per-epoch metrics of `ServiceMetricsLogger`. The trainer never imports MLflow.

A call the helper fails raises `TrackingServiceError` with the helper's message (the callers treat
it as they treat an MLflow error); an error of a `send` comes back with the next `call`. If the
helper process dies, the calls fall back to this process (MLflow imported here, as before).
``KDGAT_TRACKING_SERVICE=0`` keeps every call in-process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
import traceback
from typing import Any

log = logging.getLogger(__name__)
REPLY_TIMEOUT_S = 900.0  # longer than any bounded retry inside a call (with_retry's budget)
_service: TrackingService | None = None


class TrackingServiceError(RuntimeError):
    """An MLflow call that failed in the helper process (the message is the helper's)."""


def _serve(connection) -> None:
    """The helper: import MLflow at once, then run each request ``(kind, name, args, kwargs)`` in order
    until the training process is gone. ``kind`` is ``call`` (reply ``(ok, value or message, errors of
    earlier sends)``) or ``send`` (no reply; a failure is kept for the next reply)."""
    import mlflow.tracking  # noqa: F401 - the point of the helper: this import runs beside the trainer's

    from kdgat_train import tracking

    failed_sends: list[str] = []
    while True:
        try:
            kind, name, args, kwargs = connection.recv()
        except EOFError:  # the training process is gone
            return
        try:
            value = getattr(tracking, name)(*args, **kwargs)
            if kind == "call":
                connection.send((True, value, failed_sends))
                failed_sends = []
        except Exception as error:  # noqa: BLE001 - reported to the caller, whatever MLflow raised
            message = f"{name}: {type(error).__name__}: {error}"
            if kind == "call":
                connection.send((False, message + "\n" + traceback.format_exc(limit=3), failed_sends))
                failed_sends = []
            else:
                failed_sends.append(message)


class TrackingService:
    """The helper process and its end of the pipe (one per training process, shared by its stages)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process that may hold torch threads
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), name="kdgat-tracking", daemon=True)
        self._process.start()
        child.close()
        self.alive = True

    def call(self, name: str, *args, **kwargs) -> Any:
        """``kdgat_train.tracking.<name>(*args, **kwargs)`` in the helper; its result. Earlier sends are done
        by then; their failures are logged here."""
        if not self.alive:
            return _in_process(name, args, kwargs)
        try:
            self._connection.send(("call", name, args, kwargs))
            if not self._connection.poll(REPLY_TIMEOUT_S):
                raise TimeoutError(f"no answer from the tracking helper in {REPLY_TIMEOUT_S:.0f} s")
            ok, value, failed_sends = self._connection.recv()
        except (EOFError, OSError, TimeoutError) as error:
            self._give_up(error)
            return _in_process(name, args, kwargs)
        for message in failed_sends:
            log.warning("MLflow (tracking helper): %s", message)
        if not ok:
            raise TrackingServiceError(value)
        return value

    def send(self, name: str, *args, **kwargs) -> None:
        """``kdgat_train.tracking.<name>(*args, **kwargs)`` in the helper, without waiting for it."""
        if not self.alive:
            _in_process(name, args, kwargs)
            return
        try:
            self._connection.send(("send", name, args, kwargs))
        except OSError as error:
            self._give_up(error)
            _in_process(name, args, kwargs)

    def _give_up(self, error: BaseException) -> None:
        log.warning("the MLflow tracking helper stopped answering (%s: %s); MLflow calls continue in this process",
                    type(error).__name__, error)
        self.alive = False
        if self._process.is_alive():
            self._process.terminate()


def _in_process(name: str, args: tuple, kwargs: dict) -> Any:
    from kdgat_train import tracking

    return getattr(tracking, name)(*args, **kwargs)


def start_tracking_service() -> TrackingService | None:
    """Start this process's helper (once; later calls return the same one), unless ``KDGAT_TRACKING_SERVICE=0``."""
    global _service
    if _service is None and os.environ.get("KDGAT_TRACKING_SERVICE", "1") != "0":
        _service = TrackingService()
    return _service


def tracking_call(name: str, *args, **kwargs) -> Any:
    """``kdgat_train.tracking.<name>(...)`` through the helper when one runs, else in this process."""
    if _service is not None:
        return _service.call(name, *args, **kwargs)
    return _in_process(name, args, kwargs)


def service_metrics_logger(uri: str, run_id: str):
    """A Lightning logger sending each step's metrics to the helper (Lightning's `MLFlowLogger` without
    importing MLflow here); None when no helper runs. Metric names are cleaned as `MLFlowLogger` cleans them."""
    if _service is None or not _service.alive:
        return None
    import re

    from lightning.pytorch.loggers.logger import Logger
    from lightning.pytorch.utilities import rank_zero_only

    service = _service

    class ServiceMetricsLogger(Logger):
        @property
        def name(self) -> str:
            return "mlflow"

        @property
        def version(self) -> str:
            return run_id

        @rank_zero_only
        def log_hyperparams(self, params, *args, **kwargs) -> None:  # the run's params are logged at its start
            return None

        @rank_zero_only
        def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
            clean = {re.sub("[^a-zA-Z0-9_/. -]+", "", key): float(value) for key, value in metrics.items()
                     if not isinstance(value, str)}
            service.send("log_metrics", uri, run_id, clean, step or 0, timestamp_ms=int(time.time() * 1000))

    return ServiceMetricsLogger()
