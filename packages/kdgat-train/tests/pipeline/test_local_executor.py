"""``pipeline.jobs=N``: stages side by side in dependency order, with the runs and table of one at a time."""

import csv
import json
from pathlib import Path

import pytest
import yaml
from kdgat_train.api import train
from kdgat_train.pipeline.local_executor import stage_tasks, threads_per_job
from mlflow.tracking import MlflowClient

from ..conftest import FAST
from ..test_pipeline import TINY_SIZES

# what differs between two runs of the same work: where it ran and how long it took
NOT_RESULTS = {"run", "windows_per_s", "cost_s", "train_windows_per_s"}


def _settings(project, overrides):
    from kdgat_train.task import settings_from

    from ..test_config import _compose

    return settings_from(_compose(project, ["config_store=automotive_synthetic_pipeline", *overrides]))


def test_every_seeds_stages_and_baselines_are_tasks_whose_needs_stay_in_their_seed(project):
    settings = _settings(project, ["pipeline.jobs=2", "pipeline.seeds=[0,1]"])
    tasks = {task.key: task for task in stage_tasks(settings, [0, 1])}
    assert {"0/gat_teacher_no", "1/gat_teacher_no", "0/baseline_gbdt", "1/dqn_student_standard"} <= set(tasks)
    assert tasks["1/gat_student_standard"].needs == ("1/gat_teacher_no",)
    assert set(tasks["0/dqn_student_standard"].needs) == {"0/vgae_student_standard", "0/gat_student_standard"}
    assert tasks["0/vgae_teacher_no"].needs == () and tasks["0/baseline_gbdt"].baseline
    made = tasks["1/gat_student_standard"].settings_of({"1/gat_teacher_no": "/runs/teacher_1", "0/gat_teacher_no": "/x"})
    assert made.distillation_config.teacher_run == "/runs/teacher_1" and made.training_config.seed == 1
    assert threads_per_job(settings, 2) >= 1
    assert threads_per_job(_settings(project, ["device.threads=3"]), 2) == 3


@pytest.mark.slow
def test_two_jobs_give_the_runs_and_the_table_of_one_at_a_time(project, tmp_path, capsys):
    """Both with one thread per process: a stage's numbers depend on its thread count (the reductions
    split differently), not on what else runs beside it."""
    common = ["config_store=automotive_synthetic_pipeline", *FAST, *TINY_SIZES, "dataset_config.window=50",
              "dataset_config.stride=25", "device.threads=1"]
    [sequential] = train([*common, f"runs_root={tmp_path / 'one'}"], project_root=project)
    capsys.readouterr()
    [parallel] = train([*common, f"runs_root={tmp_path / 'two'}", "pipeline.jobs=2"], project_root=project)
    said = capsys.readouterr().out
    assert "pipeline.jobs=2: training stages 2 at a time with 1 thread each" in said and "  started seed" in said
    stages = json.loads((parallel / "pipeline.json").read_text())["stages"]
    before = json.loads((sequential / "pipeline.json").read_text())["stages"]
    assert [s["stage"] for s in stages] == [s["stage"] for s in before]
    assert not any(s["reused"] for s in stages)  # trained by this command, side by side
    assert all(str(tmp_path / "two") in s["run_dir"] for s in stages)
    for stage in stages:
        if not stage["stage"].startswith("baseline"):
            assert yaml.safe_load(Path(stage["run_dir"], "config.yaml").read_text())["device"]["threads"] == 1

    def results(folder):
        rows = list(csv.DictReader((folder / "comparison.csv").open()))
        return [{k: v for k, v in row.items() if k not in NOT_RESULTS} for row in rows]

    assert results(parallel) == results(sequential)
    client = MlflowClient(f"sqlite:///{tmp_path / 'two' / 'mlflow.db'}")
    finished = [run for experiment in client.search_experiments() for run in client.search_runs([experiment.experiment_id])]
    assert len(finished) == len(stages) + 1 and {run.info.status for run in finished} == {"FINISHED"}
