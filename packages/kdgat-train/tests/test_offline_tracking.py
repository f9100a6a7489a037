"""``tracking=offline``: a run writes its tracking data into its folder only; `kdgat-runs ingest` loads it."""

import json

import pytest
from click.testing import CliRunner
from kdgat_schemas import RunRecord
from kdgat_train.api import train
from kdgat_train.offline_tracking import INGESTED, RUN_DIR_TAG, ingest_runs
from kdgat_train.runs_cli import main
from mlflow.tracking import MlflowClient

from .conftest import FAST

PRESET = "automotive_synthetic_supervised_gat_student_no_all_samples"


@pytest.fixture(scope="module")
def offline_run(project, tmp_path_factory):
    root = tmp_path_factory.mktemp("offline") / "runs"
    [run_dir] = train([f"config_store={PRESET}", *FAST, "training_config.epochs=2", "model_size_config.hidden_dim=8",
                       f"runs_root={root}", "tracking=offline"], project_root=project)
    return root, run_dir


def _metric_lines(run_dir):
    return [json.loads(line) for line in (run_dir / "tracking" / "metrics.jsonl").read_text().splitlines()]


def test_an_offline_run_writes_its_folder_and_no_database(offline_run):
    root, run_dir = offline_run
    record = RunRecord.read(run_dir)
    assert record.status == "COMPLETED" and record.mlflow_run_id is None
    assert not (root / "mlflow.db").exists()  # nothing touched the database
    start = json.loads((run_dir / "tracking" / "start.json").read_text())
    assert start["params"]["model_size_config.hidden_dim"] == 8 and start["tags"]["variant"] == "student_no_all_samples"
    per_epoch = [m for m in _metric_lines(run_dir) if m["key"] == "val/loss"]
    assert len(per_epoch) == 2 and per_epoch[0]["step"] != per_epoch[1]["step"]  # one value per epoch
    assert json.loads((run_dir / "tracking" / "end.json").read_text())["status"] == "COMPLETED"


def test_ingest_loads_every_metric_once_and_a_second_ingest_adds_nothing(offline_run):
    root, run_dir = offline_run
    first = CliRunner().invoke(main, ["ingest", str(root)])
    assert first.exit_code == 0, first.output
    assert "1 ingested, 0 already ingested" in first.output
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("automotive_synthetic_supervised_gat").experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == f"student_no_all_samples_run{run_dir.name[4:]}"
    assert RunRecord.read(run_dir).mlflow_run_id == run.info.run_id
    lines = _metric_lines(run_dir)
    assert len(client.get_metric_history(run.info.run_id, "val/loss")) == 2
    final_keys = {m["key"] for m in lines if m["key"].startswith("test/")}
    assert final_keys and final_keys <= set(run.data.metrics)  # the evaluation's final metrics too
    assert run.data.params["model_size_config.hidden_dim"] == "8" and run.data.tags["seed"] == str(RunRecord.read(run_dir).seed)
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"config.yaml", "run.json"}
    second = CliRunner().invoke(main, ["ingest", str(root)])
    assert "0 ingested, 1 already ingested" in second.output
    assert len(client.search_runs([run.info.experiment_id])) == 1
    assert len(client.get_metric_history(run.info.run_id, "val/loss")) == 2


def test_an_ingest_cut_off_half_way_is_redone_whole(project, offline_run):
    root, run_dir = offline_run
    ingest_runs(root, say=lambda _: None)  # whatever the previous test left, the run is ingested now
    marker = run_dir / "tracking" / INGESTED
    marker.unlink()  # as if the process died after creating the MLflow run but before the mark
    result = ingest_runs(root, say=lambda _: None)
    assert result.ingested == [run_dir]
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("automotive_synthetic_supervised_gat").experiment_id
    [run] = client.search_runs([experiment], filter_string=f"tags.{RUN_DIR_TAG} = '{run_dir}'")
    assert run.info.status == "FINISHED" and len(client.get_metric_history(run.info.run_id, "val/loss")) == 2


def test_a_run_not_ended_yet_is_left_for_a_later_ingest(tmp_path):
    from kdgat_train.offline_tracking import OfflineRecorder

    run_dir = tmp_path / "automotive" / "synthetic" / "supervised" / "gat" / "student" / "no" / "all_samples" / "run_001"
    recorder = OfflineRecorder(run_dir=run_dir)
    recorder.start(experiment="automotive_synthetic_supervised_gat", run_name="student_no_all_samples_run001",
                   params={"a": 1}, tags={"seed": "0"})
    recorder.log_metrics({"val/loss": 1.0, "val/f1": float("nan")}, step=3)
    assert [m["key"] for m in _metric_lines(run_dir)] == ["val/loss"]  # a NaN is not a value MLflow can hold
    result = ingest_runs(tmp_path, say=lambda _: None)
    assert (result.ingested, result.skipped_running) == ([], [run_dir])
    recorder.end("FAILED")
    assert ingest_runs(tmp_path, say=lambda _: None).ingested == [run_dir]
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("automotive_synthetic_supervised_gat").experiment_id])
    assert run.info.status == "FAILED" and run.data.metrics == {"val/loss": 1.0}
