"""A run killed with -9 is listed STALE and `kdgat-runs reconcile` marks it FAILED here and in MLflow;
live runs, finished runs and runs of other machines are left alone."""

import os
import signal
import subprocess
import sys

from click.testing import CliRunner
from kdgat_schemas import ExperimentName, RunRecord
from kdgat_train.run_liveness import Liveness, liveness, process_start, this_process
from kdgat_train.runs_cli import main as runs_cli
from kdgat_train.tracked_run import TrackedRun
from mlflow.tracking import MlflowClient
from pydantic import BaseModel

NAME = ExperimentName.parse("automotive_synthetic_supervised_gat_student_no_all_samples")

RUN_FOREVER = """
import sys, time
from pydantic import BaseModel
from kdgat_schemas import ExperimentName
from kdgat_train.tracked_run import TrackedRun

class Settings(BaseModel):
    epochs: int = 1
    def flat(self):
        return self.model_dump()

with TrackedRun(name=ExperimentName.parse(sys.argv[2]), settings=Settings(), runs_root=sys.argv[1], seed=0) as run:
    print(run.run_dir, flush=True)
    time.sleep(600)
"""


class _Settings(BaseModel):
    epochs: int = 1

    def flat(self):
        return self.model_dump()


def test_a_run_killed_with_sigkill_is_stale_and_reconciled(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", RUN_FOREVER, str(tmp_path), NAME.format()],
                               stdout=subprocess.PIPE, text=True)
    killed_dir = process.stdout.readline().strip()
    record = RunRecord.read(killed_dir)
    assert (record.status, record.pid, record.host) == ("RUNNING", process.pid, this_process()["host"])
    assert liveness(record) is Liveness.ALIVE
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert liveness(RunRecord.read(killed_dir)) is Liveness.GONE

    with TrackedRun(name=NAME, settings=_Settings(), runs_root=tmp_path, seed=0, log_file=False) as live:
        listed = CliRunner().invoke(runs_cli, ["list", "--root", str(tmp_path)]).output
        lines = {line.split()[0]: line.split()[1] for line in listed.splitlines() if line.startswith("automotive")}
        assert sorted(lines.values()) == ["RUNNING", "STALE"]
        dry = CliRunner().invoke(runs_cli, ["reconcile", "--root", str(tmp_path), "--dry-run"])
        assert "would mark FAILED" in dry.output and RunRecord.read(killed_dir).status == "RUNNING"
        result = CliRunner().invoke(runs_cli, ["reconcile", "--root", str(tmp_path)])
        assert result.exit_code == 0 and "1 stale runs" in result.output
        assert RunRecord.read(live.run_dir).status == "RUNNING"  # the live run is not touched
    reconciled = RunRecord.read(killed_dir)
    assert reconciled.status == "FAILED" and "process gone" in reconciled.error
    assert MlflowClient(live.uri).get_run(reconciled.mlflow_run_id).info.status == "FAILED"
    assert RunRecord.read(live.run_dir).status == "COMPLETED"


def test_a_reused_pid_is_not_taken_for_the_run():
    me = this_process()
    record = RunRecord(name=NAME.format(), run_dir="x", seed=0, started_at="now", **me)
    assert liveness(record) is Liveness.ALIVE
    assert me["process_start"] == process_start(os.getpid()) is not None
    assert liveness(record.model_copy(update={"process_start": me["process_start"] - 1})) is Liveness.GONE


def test_a_run_of_another_machine_is_unknown_not_stale():
    record = RunRecord(name=NAME.format(), run_dir="x", seed=0, started_at="now", host="elsewhere", pid=1)
    assert liveness(record) is Liveness.UNKNOWN


RUN_FOREVER_OFFLINE = RUN_FOREVER.replace("    epochs: int = 1\n", "    epochs: int = 1\n    tracking: str = 'offline'\n")


def test_an_offline_run_killed_with_sigkill_is_ingested_once_reconciled(tmp_path):
    """kill -9 leaves an offline run without its end record; once `reconcile` ended it in run.json,
    `ingest` loads it as FAILED (before, it stayed 'not ended yet' for ever)."""
    from kdgat_train.offline_tracking import ingest_runs

    process = subprocess.Popen([sys.executable, "-c", RUN_FOREVER_OFFLINE, str(tmp_path), NAME.format()],
                               stdout=subprocess.PIPE, text=True)
    killed_dir = process.stdout.readline().strip()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert [str(path) for path in ingest_runs(tmp_path, say=lambda _: None).skipped_running] == [killed_dir]
    assert CliRunner().invoke(runs_cli, ["reconcile", "--root", str(tmp_path)]).exit_code == 0
    result = ingest_runs(tmp_path, say=lambda _: None)
    assert [str(path) for path in result.ingested] == [killed_dir] and result.skipped_running == []
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = client.get_run(RunRecord.read(killed_dir).mlflow_run_id)
    assert run.info.status == "FAILED" and run.info.run_name.endswith("_run001")
