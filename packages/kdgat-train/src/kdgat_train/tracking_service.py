"""MLflow in a helper process: importing MLflow and talking to its database run beside training.

Importing MLflow takes 2.5-3 s on the project's 2-core VM (its package imports its GenAI, artifact
and data modules whatever one uses), and a quick one-epoch check trains for less than that. So a
training process with ``tracking=mlflow`` starts one helper process as soon as its config is valid,
before torch is imported; the helper imports MLflow on the second core while the trainer imports
torch, Lightning and PyG, and then makes every MLflow call of the process, in the order they were
made. A call is a function of `kdgat_train.tracking` and its arguments, sent as such
(``tracking_call(tracking.set_tags, uri, run_id, tags)``): `tracking_call` waits for the result,
`tracking_send` does not. The trainer never imports MLflow.

A call the helper fails raises `TrackingServiceError` with the helper's message (the callers treat
it as they treat an MLflow error); an error of a send comes back with the next call. If the helper
process dies, the calls fall back to this process (MLflow imported here, as before).
``KDGAT_TRACKING_SERVICE=0`` keeps every call in-process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
REPLY_TIMEOUT_S = 900.0  # longer than any bounded retry inside a call (with_retry's budget)
_service: TrackingService | None = None


class TrackingServiceError(RuntimeError):
    """An MLflow call that failed in the helper process (the message is the helper's)."""


def _serve(connection) -> None:
    """The helper: import MLflow at once, then run each request ``(wait, function, args, kwargs)`` in order
    until the training process is gone. A request that waits gets ``(ok, value or message, errors of
    earlier sends)``; one that does not keeps its failure for the next reply."""
    import mlflow.tracking  # noqa: F401 - the point of the helper: this import runs beside the trainer's

    failed_sends: list[str] = []
    while True:
        try:
            wait, function, args, kwargs = connection.recv()
        except EOFError:  # the training process is gone
            return
        try:
            value = function(*args, **kwargs)
            if wait:
                connection.send((True, value, failed_sends))
                failed_sends = []
        except Exception as error:  # noqa: BLE001 - reported to the caller, whatever MLflow raised
            message = f"{function.__name__}: {type(error).__name__}: {error}"
            if wait:
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

    def call(self, function: Callable[..., T], *args, **kwargs) -> T:
        """``function(*args, **kwargs)`` in the helper; its result. Earlier sends are done by then; their
        failures are logged here."""
        if not self.alive:
            return function(*args, **kwargs)
        try:
            self._connection.send((True, function, args, kwargs))
            if not self._connection.poll(REPLY_TIMEOUT_S):
                raise TimeoutError(f"no answer from the tracking helper in {REPLY_TIMEOUT_S:.0f} s")
            ok, value, failed_sends = self._connection.recv()
        except (EOFError, OSError, TimeoutError) as error:
            self._give_up(error)
            return function(*args, **kwargs)
        for message in failed_sends:
            log.warning("MLflow (tracking helper): %s", message)
        if not ok:
            raise TrackingServiceError(value)
        return value

    def send(self, function: Callable[..., Any], *args, **kwargs) -> None:
        """``function(*args, **kwargs)`` in the helper, without waiting for it."""
        if not self.alive:
            function(*args, **kwargs)
            return
        try:
            self._connection.send((False, function, args, kwargs))
        except OSError as error:
            self._give_up(error)
            function(*args, **kwargs)

    def _give_up(self, error: BaseException) -> None:
        log.warning("the MLflow tracking helper stopped answering (%s: %s); MLflow calls continue in this process",
                    type(error).__name__, error)
        self.alive = False
        if self._process.is_alive():
            self._process.terminate()


def start_tracking_service() -> TrackingService | None:
    """Start this process's helper (once; later calls return the same one), unless ``KDGAT_TRACKING_SERVICE=0``."""
    global _service
    if _service is None and os.environ.get("KDGAT_TRACKING_SERVICE", "1") != "0":
        _service = TrackingService()
    return _service


def tracking_call(function: Callable[..., T], *args, **kwargs) -> T:
    """``function(*args, **kwargs)`` (a function of `kdgat_train.tracking`) through the helper when one
    runs, else in this process; its result."""
    return _service.call(function, *args, **kwargs) if _service is not None else function(*args, **kwargs)


def tracking_send(function: Callable[..., Any], *args, **kwargs) -> None:
    """``function(*args, **kwargs)`` through the helper without waiting when one runs, else in this process."""
    if _service is not None:
        _service.send(function, *args, **kwargs)
    else:
        function(*args, **kwargs)
