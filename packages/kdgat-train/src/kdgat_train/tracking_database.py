"""The MLflow SQLite database: created whole or not at all, repaired when a signal cut its creation,
and called through a bounded retry while another process holds its write lock.

MLflow creates ``mlflow.db`` by running about sixty migrations in place; a signal in the middle
(Ctrl-C of the first run, a Slurm time limit) left a half-migrated file on which every later call
failed (`table _alembic_tmp_model_versions already exists`) until someone deleted it by hand. Here
the database is built beside under the tracking lock and renamed into place when complete; an
existing database is checked once per process (schema revision, no migration leftovers) and a
half-created one that holds no run is set aside and rebuilt.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_BUDGET_S = 120.0  # how long a tracking call waits in all for another process's write lock
_checked: set[Path] = set()  # databases verified complete by this process


class TrackingDatabaseError(RuntimeError):
    """The MLflow database cannot be used and repairing it could lose runs."""


class TrackingDatabaseLockedError(TrackingDatabaseError):
    """Another process held the MLflow database's write lock past the retry budget."""


def is_locked_error(error: BaseException) -> bool:
    """SQLite's "database is locked" (or "busy"), however MLflow and SQLAlchemy wrap it."""
    text = str(error).lower()
    return "database is locked" in text or "database is busy" in text


def with_retry(call: Callable[[], T], what: str, budget_s: float | None = None) -> T:
    """``call()``, retried with exponential backoff (0.25 s doubling, at most 8 s a wait) while SQLite
    reports the database locked, for at most ``budget_s`` seconds in all; each wait is logged."""
    budget = RETRY_BUDGET_S if budget_s is None else budget_s
    deadline, wait = time.monotonic() + budget, 0.25
    while True:
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - MLflow raises MlflowException or SQLAlchemy errors
            if not is_locked_error(error):
                raise
            if time.monotonic() + wait > deadline:
                raise TrackingDatabaseLockedError(
                    f"the MLflow database stayed locked by another process for over {budget:.0f} s while trying to "
                    f"{what}: find the process that holds it (fuser <runs_root>/mlflow.db), or train with "
                    "tracking=offline and load the runs later with kdgat-runs ingest") from error
            log.warning("MLflow database locked by another process while trying to %s; retrying in %.2g s", what, wait)
            time.sleep(wait)
            wait = min(wait * 2, 8.0)


def _schema_state(database: Path) -> tuple[str | None, list[str], int]:
    """``(alembic revision, leftover migration tables, runs)`` of an existing database file."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        revision = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        runs = connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0] if "runs" in tables else 0
    return revision, [t for t in tables if t.startswith("_alembic_tmp")], runs


def _head_revision() -> str:
    from mlflow.store.db.utils import _get_latest_schema_revision

    return _get_latest_schema_revision()


def _build(database: Path) -> None:
    """Create a complete database at ``database`` by building it beside and renaming it into place."""
    from mlflow.tracking import MlflowClient

    staging = database.with_name(f".{database.name}.building.{socket.gethostname()}.{os.getpid()}")
    staging.unlink(missing_ok=True)
    migrations = logging.getLogger("mlflow.store.db.utils")  # "Creating initial MLflow database tables..."
    level = migrations.level
    migrations.setLevel(logging.WARNING)
    try:
        MlflowClient(f"sqlite:///{staging}").search_experiments(max_results=1)  # creates and migrates every table
        os.replace(staging, database)
    finally:
        migrations.setLevel(level)
        staging.unlink(missing_ok=True)


def ensure_database(database: Path) -> None:
    """Make ``database`` a complete MLflow database; the caller holds the tracking lock.

    A missing file is built beside and renamed in; an existing one is checked once per process.
    A half-created database without runs is moved to ``mlflow.db.broken-<time>`` and rebuilt (logged);
    one that holds runs is an error naming the upgrade command, since rebuilding would lose them.
    """
    database = Path(database).resolve()
    if database in _checked and database.exists():
        return
    for stale in database.parent.glob(f".{database.name}.building.*"):  # left by a killed build
        stale.unlink(missing_ok=True)
    if not database.exists():
        _build(database)
        _checked.add(database)
        return
    revision, leftovers, runs = with_retry(lambda: _schema_state(database), "check the database")
    head = _head_revision()
    if revision != head or leftovers:
        problem = f"schema revision {revision or 'none'} (expected {head})" + \
                  (f", leftover migration tables {', '.join(leftovers)}" if leftovers else "")
        if runs:
            raise TrackingDatabaseError(
                f"{database}: {problem}, and it holds {runs} runs: back it up, then run "
                f"'uv run mlflow db upgrade sqlite:///{database}'")
        aside = database.with_name(f"{database.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(database, aside)
        log.warning("%s was half-created (%s; a run was interrupted while creating it): rebuilt, the broken file "
                    "kept as %s", database, problem, aside.name)
        _build(database)
    _checked.add(database)
