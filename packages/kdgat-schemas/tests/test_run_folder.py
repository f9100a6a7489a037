"""`RunFolder`: the run folder's files named once; a missing or broken file is one error naming it."""

import re

import pytest
from kdgat_schemas import RunFolder, RunFolderError, RunRecord


def _record(run_dir) -> RunRecord:
    return RunRecord(name="automotive_synthetic_pipeline", run_dir=str(run_dir), seed=0, started_at="now",
                     status="COMPLETED")


def test_files_round_trip_through_the_folder(tmp_path):
    folder = RunFolder(tmp_path)
    folder.write_record(_record(tmp_path))
    folder.write_config({"experiment_name": "automotive_synthetic_pipeline", "training_config": {"epochs": 2}})
    folder.write_metrics({"val": {"f1": 0.5}, "threshold_rule": {"rule": "f1", "value": 0.3}})
    assert folder.read_record().status == "COMPLETED" and folder.is_completed()
    assert folder.read_config()["training_config"] == {"epochs": 2}
    assert folder.threshold_rule() == {"rule": "f1", "value": 0.3}
    assert folder.record_file.name == "run.json" and folder.scores_file.name == "scores.parquet"
    assert folder.cross_folder("car2") == tmp_path / "cross" / "car2"


def test_the_evaluated_checkpoint_is_the_best_else_the_last(tmp_path):
    folder = RunFolder(tmp_path)
    folder.checkpoints.mkdir()
    folder.last_checkpoint.write_bytes(b"last")
    assert folder.evaluated_checkpoint() == folder.last_checkpoint
    folder.best_checkpoint.write_bytes(b"best")
    assert folder.evaluated_checkpoint() == folder.best_checkpoint


@pytest.mark.parametrize(("name", "text", "method", "expected"), [
    ("run.json", '{"name": "x", "run_dir"', "read_record", "broken run record"),
    ("run.json", None, "read_record", "no run.json (not a run folder)"),
    ("config.yaml", "a: [1,", "read_config", "not valid YAML"),
    ("config.yaml", "- just a list\n", "read_config", "expected a mapping"),
    ("metrics.json", "{", "read_metrics", "not valid JSON"),
    ("metrics.json", '{"val": {}}', "threshold_rule", "no threshold_rule"),
])
def test_a_missing_or_broken_file_is_one_error_naming_it(tmp_path, name, text, method, expected):
    if text is not None:
        (tmp_path / name).write_text(text)
    folder = RunFolder(tmp_path)
    with pytest.raises(RunFolderError, match=re.escape(expected)) as error:
        getattr(folder, method)()
    assert str(tmp_path) in str(error.value) and name in str(error.value)
    assert not folder.is_completed()
