"""`TrackedRun`: one lifecycle for every run (folder, config.yaml, MLflow, run.json, final status)."""

import os

import pytest
import yaml
from kdgat_schemas import ExperimentName, RunRecord
from kdgat_train.tracked_run import HANDOFF_MLFLOW_RUN, HANDOFF_RUN_DIR, TrackedRun
from mlflow.tracking import MlflowClient
from pydantic import BaseModel

NAME = ExperimentName.parse("automotive_synthetic_supervised_gat_student_no_all_samples")


class _Settings(BaseModel):
    learning_rate: float = 0.01
    epochs: int = 2

    def flat(self):
        return self.model_dump()


def _run(tmp_path, seed=7, **kwargs):
    return TrackedRun(name=NAME, settings=_Settings(), runs_root=tmp_path, seed=seed, **kwargs)


def test_a_run_that_ends_normally_is_completed_everywhere(tmp_path):
    with _run(tmp_path) as run:
        assert RunRecord.read(run.run_dir).status == "RUNNING"
        run.log_metrics({"test/a/f1": 0.5})
        run.complete(metrics={"val/f1": 0.75}, timings={"fit_s": 1.0})
    record = RunRecord.read(run.run_dir)
    assert (record.status, record.seed, record.metrics, record.timings["fit_s"]) == ("COMPLETED", 7, {"val/f1": 0.75}, 1.0)
    assert "total_s" in record.timings and record.finished_at is not None
    assert yaml.safe_load((run.run_dir / "config.yaml").read_text()) == {"learning_rate": 0.01, "epochs": 2}
    mlflow_run = MlflowClient(run.uri).get_run(record.mlflow_run_id)
    assert mlflow_run.info.status == "FINISHED"
    assert mlflow_run.data.params == {"learning_rate": "0.01", "epochs": "2"}
    assert mlflow_run.data.metrics["test/a/f1"] == 0.5
    assert mlflow_run.info.run_name == "student_no_all_samples_run001"
    tags = mlflow_run.data.tags
    assert (tags["seed"], tags["variant"]) == ("7", "student_no_all_samples")
    with _run(tmp_path / "other_seed", seed=8) as other:
        pass
    assert MlflowClient(other.uri).get_run(RunRecord.read(other.run_dir).mlflow_run_id).data.tags["seed_group"] \
        == tags["seed_group"]  # the same config with another seed: one group
    assert (run.run_dir / "train.log").is_file()


@pytest.mark.parametrize(("error", "status"), [(RuntimeError("boom"), "FAILED"), (KeyboardInterrupt(), "KILLED")])
def test_an_error_marks_the_run_and_is_raised(tmp_path, error, status):
    with pytest.raises(type(error)), _run(tmp_path) as run:
        raise error
    record = RunRecord.read(run.run_dir)
    assert record.status == status and type(error).__name__ in record.error
    assert MlflowClient(run.uri).get_run(record.mlflow_run_id).info.status == status


def test_an_interrupted_fit_counts_as_killed(tmp_path):
    with pytest.raises(SystemExit), _run(tmp_path) as run:
        run.interrupted = lambda: True  # Lightning's graceful Ctrl-C ends in SystemExit(1)
        raise SystemExit(1)
    assert RunRecord.read(run.run_dir).status == "KILLED"


def test_an_adopted_folder_reopens_its_mlflow_run(tmp_path):
    with _run(tmp_path) as first:
        pass
    with _run(tmp_path, run_dir=first.run_dir) as second:
        assert MlflowClient(second.uri).get_run(second.run_id).info.status == "RUNNING"
    assert second.run_id == first.run_id and second.run_dir == first.run_dir


def test_the_ddp_hand_off_is_scoped_to_the_run(tmp_path, monkeypatch):
    monkeypatch.delenv(HANDOFF_RUN_DIR, raising=False)
    monkeypatch.delenv(HANDOFF_MLFLOW_RUN, raising=False)
    with _run(tmp_path) as run:
        run.hand_off_to_ddp_ranks()
        assert os.environ[HANDOFF_RUN_DIR] == str(run.run_dir) and os.environ[HANDOFF_MLFLOW_RUN] == run.run_id
    assert HANDOFF_RUN_DIR not in os.environ and HANDOFF_MLFLOW_RUN not in os.environ


def test_a_worker_joins_rank_zero_and_writes_nothing(tmp_path, monkeypatch):
    with _run(tmp_path) as rank_zero:
        monkeypatch.setenv("LOCAL_RANK", "1")
        rank_zero.hand_off_to_ddp_ranks()
        before = (rank_zero.run_dir / "run.json").read_text()
        with pytest.raises(RuntimeError), _run(tmp_path, worker=True) as worker:
            assert (worker.run_dir, worker.run_id) == (rank_zero.run_dir, rank_zero.run_id)
            raise RuntimeError("a rank fails")
        assert (rank_zero.run_dir / "run.json").read_text() == before  # rank 0 decides the status
        monkeypatch.setenv("LOCAL_RANK", "0")
    assert RunRecord.read(rank_zero.run_dir).status == "COMPLETED"


def test_a_folder_that_is_not_this_runs_is_refused_before_anything_is_written(tmp_path):
    from kdgat_train.tracked_run import NotARunFolderError

    notes = tmp_path / "my_notes"
    notes.mkdir()
    (notes / "config.yaml").write_text("precious: true\n")
    with pytest.raises(ValueError, match="not a run folder"):
        _run(tmp_path, run_dir=notes).__enter__()
    looks_like_one = tmp_path / "run_007"
    looks_like_one.mkdir()
    (looks_like_one / "config.yaml").write_text("precious: true\n")
    with pytest.raises(NotARunFolderError, match="no run.json; it holds config.yaml"):
        _run(tmp_path, run_dir=looks_like_one).__enter__()
    assert (looks_like_one / "config.yaml").read_text() == "precious: true\n"  # untouched
    assert sorted(p.name for p in looks_like_one.iterdir()) == ["config.yaml"]  # no checkpoints/ either
    cluster_job = tmp_path / "run_008"
    (cluster_job / "slurm").mkdir(parents=True)  # kdgat-cluster's pre-allocated job folder is adoptable
    with _run(tmp_path, run_dir=cluster_job) as run:
        assert run.run_dir == cluster_job


def test_resume_refuses_a_run_with_another_config_or_experiment(tmp_path):
    from kdgat_train.tracked_run import NotARunFolderError

    with _run(tmp_path) as first:
        pass

    class OtherRate(_Settings):
        learning_rate: float = 0.5

    def settings_run(settings):
        return TrackedRun(name=NAME, settings=settings, runs_root=tmp_path, seed=7, run_dir=first.run_dir)

    with pytest.raises(NotARunFolderError, match="differs from this command's in learning_rate"):
        settings_run(OtherRate()).__enter__()
    assert yaml.safe_load((first.run_dir / "config.yaml").read_text())["learning_rate"] == 0.01
    other = ExperimentName.parse("automotive_synthetic_supervised_gat_teacher_no_all_samples")
    with pytest.raises(NotARunFolderError, match="is a run of automotive_synthetic_supervised_gat_student"):
        TrackedRun(name=other, settings=_Settings(), runs_root=tmp_path, seed=7, run_dir=first.run_dir).__enter__()


def test_the_seed_group_ignores_the_seed_and_the_location_only():
    from kdgat_train.tracking import seed_group

    base = {"training_config.seed": 0, "training_config.learning_rate": 0.01, "run_dir": "a", "runs_root": "x"}
    assert seed_group(base) == seed_group({**base, "training_config.seed": 1, "run_dir": "b", "runs_root": "y"})
    assert seed_group(base) != seed_group({**base, "training_config.learning_rate": 0.02})


def test_a_folder_not_named_like_a_run_is_refused_as_one(tmp_path):
    """``resume=`` at a folder such as ~/results: NotARunFolderError (one line from kdgat-train), not a ValueError
    traceback."""
    from kdgat_train.tracked_run import NotARunFolderError, check_adoptable

    (tmp_path / "results").mkdir()
    with pytest.raises(NotARunFolderError, match="not a run folder"):
        check_adoptable(tmp_path / "results", ExperimentName.parse(
            "automotive_synthetic_supervised_gat_student_no_all_samples"), None)
