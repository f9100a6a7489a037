"""`prepare_experiment`: the tracking helper readies the database and the experiment before the run starts."""

import pytest
from kdgat_schemas import ExperimentName, RunPaths
from kdgat_train.tracking import prepare_experiment, start_mlflow_run

EXPERIMENT = "automotive_synthetic_supervised_gat"


def test_prepare_creates_the_database_and_the_experiment(tmp_path):
    from mlflow.tracking import MlflowClient

    prepare_experiment(RunPaths(tmp_path), EXPERIMENT)
    assert (tmp_path / "mlflow.db").is_file()
    experiment = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").get_experiment_by_name(EXPERIMENT)
    assert experiment is not None and experiment.artifact_location.endswith("mlartifacts")


def test_a_failed_preparation_is_left_to_the_run_to_report(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    prepare_experiment(RunPaths(blocked), EXPERIMENT)  # here, nothing is raised
    assert blocked.read_text() == "not a folder"
    name = ExperimentName.parse("automotive_synthetic_supervised_gat_student_no_all_samples")
    with pytest.raises(OSError):  # the run's own start reports it
        start_mlflow_run(RunPaths(blocked), name, "student_no_all_samples_run001", {})
