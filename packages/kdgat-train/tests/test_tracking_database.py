"""The MLflow database is created whole, repaired after an interrupted creation, and waited for
(bounded, logged) while another process holds its write lock; tracking trouble at the end of a run
never changes the run's own status."""

import logging
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import sqlalchemy
from click.testing import CliRunner
from kdgat_schemas import ExperimentName, RunPaths, RunRecord
from kdgat_train import tracking_database, tracking_service
from kdgat_train.runs_cli import main as runs_cli
from kdgat_train.tracked_run import TrackedRun
from kdgat_train.tracking import ensure_experiments
from kdgat_train.tracking_database import TrackingDatabaseError
from mlflow.tracking import MlflowClient
from pydantic import BaseModel

NAME = ExperimentName.parse("automotive_synthetic_supervised_gat_student_no_all_samples")


class _Settings(BaseModel):
    epochs: int = 1

    def flat(self):
        return self.model_dump()


def _tables(database) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_half_created_database_is_rebuilt_and_kept_aside(tmp_path, caplog):
    from mlflow.store.tracking.dbmodels.initial_models import Base as InitialBase

    database = tmp_path / "mlflow.db"
    InitialBase.metadata.create_all(sqlalchemy.create_engine(f"sqlite:///{database}"))  # the first migration only
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE _alembic_tmp_model_versions (id INTEGER)")  # what an interrupted migration leaves
    with caplog.at_level(logging.WARNING):
        ensure_experiments(RunPaths(tmp_path), ["automotive_synthetic_supervised_gat"])
    assert "half-created" in caplog.text
    assert [p.name.startswith("mlflow.db.broken-") for p in tmp_path.glob("mlflow.db.broken-*")] == [True]
    assert not any(t.startswith("_alembic_tmp") for t in _tables(database))
    assert MlflowClient(RunPaths(tmp_path).mlflow_uri).get_experiment_by_name("automotive_synthetic_supervised_gat")


def test_a_half_migrated_database_with_runs_is_not_thrown_away(tmp_path):
    paths = RunPaths(tmp_path)
    ensure_experiments(paths, ["automotive_synthetic_supervised_gat"])
    client = MlflowClient(paths.mlflow_uri)
    client.create_run(client.get_experiment_by_name("automotive_synthetic_supervised_gat").experiment_id)
    with sqlite3.connect(tmp_path / "mlflow.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ff01da956556'")  # an older revision
    tracking_database._checked.clear()  # as a new process would
    with pytest.raises(TrackingDatabaseError, match="holds 1 runs.*mlflow db upgrade"):
        ensure_experiments(paths, ["automotive_synthetic_supervised_gat"])
    assert not list(tmp_path.glob("mlflow.db.broken-*"))


CREATE = """
import sys
from kdgat_schemas import RunPaths
from kdgat_train.tracking import ensure_experiments
print("imported", flush=True)
ensure_experiments(RunPaths(sys.argv[1]), ["automotive_synthetic_supervised_gat"])
print("created", flush=True)
"""


def test_a_signal_during_creation_leaves_no_broken_database(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", CREATE, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "imported"
    time.sleep(0.3)  # inside the migrations, which take seconds
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    database = tmp_path / "mlflow.db"
    if database.exists():  # only ever a complete database is renamed into place
        assert "alembic_version" in _tables(database) and not any(t.startswith("_alembic") for t in _tables(database))
    ensure_experiments(RunPaths(tmp_path), ["automotive_synthetic_supervised_gat"])  # the next command works
    assert MlflowClient(RunPaths(tmp_path).mlflow_uri).get_experiment_by_name("automotive_synthetic_supervised_gat")
    assert not list(tmp_path.glob(".mlflow.db.building.*"))


HOLD_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


def _hold_lock(database, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(database), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


@pytest.mark.slow
def test_init_tracking_waits_for_a_write_lock_held_longer_than_sqlites_timeout(tmp_path, caplog):
    ensure_experiments(RunPaths(tmp_path), ["automotive_synthetic_supervised_gat"])
    holder = _hold_lock(tmp_path / "mlflow.db", 24.0)  # MLflow's SQLite busy timeout gives up after 20 s
    try:
        with caplog.at_level(logging.WARNING):
            result = CliRunner().invoke(runs_cli, ["init-tracking", "automotive_synthetic_unsupervised_vgae",
                                                   "--root", str(tmp_path)])
    finally:
        holder.wait(timeout=30)
    assert result.exit_code == 0, result.output
    assert "locked by another process" in caplog.text
    assert MlflowClient(RunPaths(tmp_path).mlflow_uri).get_experiment_by_name("automotive_synthetic_unsupervised_vgae")


@pytest.mark.slow
def test_a_lock_at_the_end_of_a_run_leaves_it_completed(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(tracking_database, "RETRY_BUDGET_S", 1.0)  # patched here: keep the calls in this process
    monkeypatch.setattr(tracking_service, "_service", None)  # (a helper started by an earlier training test)
    with TrackedRun(name=NAME, settings=_Settings(), runs_root=tmp_path, seed=0, log_file=False) as run:
        run.complete(metrics={"val/f1": 0.5})
        holder = _hold_lock(tmp_path / "mlflow.db", 60.0)
    holder.kill()
    holder.wait(timeout=30)
    record = RunRecord.read(run.run_dir)
    assert record.status == "COMPLETED" and record.metrics == {"val/f1": 0.5}
    assert record.tags.get("tracking") == "incomplete"
    assert "MLflow could not mark the run finished" in caplog.text


@pytest.mark.slow
def test_a_lock_held_past_the_retry_budget_is_one_line_through_kdgat_train(project, tmp_path, monkeypatch):
    from kdgat_train.api import train

    from .conftest import FAST

    monkeypatch.setattr(tracking_database, "RETRY_BUDGET_S", 1.0)  # patched here: keep the calls in this process
    monkeypatch.setattr(tracking_service, "_service", None)
    monkeypatch.setenv("KDGAT_TRACKING_SERVICE", "0")
    ensure_experiments(RunPaths(tmp_path), [NAME.experiment])
    holder = _hold_lock(tmp_path / "mlflow.db", 90.0)
    try:
        with pytest.raises(SystemExit) as stop:
            train([f"config_store={NAME.format()}", *FAST, f"runs_root={tmp_path}"], project_root=project)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    message = str(stop.value.code)
    assert message.startswith("kdgat-train: the MLflow database stayed locked by another process for over 1 s while")
    assert "tracking=offline" in message and "\n" not in message and "Traceback" not in message
