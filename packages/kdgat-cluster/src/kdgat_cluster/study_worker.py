"""One `kdgat-cluster tune` worker per study at a time.

A study's trials are asked, submitted and watched by the process that runs ``kdgat-cluster tune``;
a second one on the same study used to pick up the first's live trials as its own (it takes the
RUNNING trials a previous, interrupted call left), fail on a trial the first had asked but not
submitted yet (``KeyError: 'job_id'``), and push the study past ``--trials``. So a worker holds an
exclusive lock on ``<study folder>/worker.lock`` (``flock``) while it runs, with its host, process id
and start time written in the file; a second worker refuses with one line naming them. The kernel
drops the lock when the worker exits, however it exits, so a killed worker never blocks the next
call, which then picks up the trials it left.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = "worker.lock"


class StudyBusyError(RuntimeError):
    """Another worker runs this study now."""


@contextmanager
def study_worker(folder: Path, study: str) -> Iterator[None]:
    """Hold the study's worker lock for the block, or raise `StudyBusyError` naming the worker that holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            try:
                holder = json.loads(handle.read() or "{}")
            except ValueError:
                holder = {}
            who = (f"process {holder.get('pid', '?')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"
                   if holder else "another process")
            raise StudyBusyError(f"study {study!r} is being run by another kdgat-cluster tune ({who}); follow it with "
                                 f"`kdgat-cluster tune-status {study}`, or stop that process first") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": datetime.now(UTC).isoformat(timespec="seconds")}))
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock
