"""``runs_root=`` at a folder that is not a run tree is refused before Hydra or a run writes there."""

import pytest
from kdgat_train.api import train
from kdgat_train.runs_root_check import RunsRootError, check_runs_root


def test_a_folder_that_is_not_a_run_tree_is_refused_before_anything_is_written(project, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    with pytest.raises(RunsRootError, match="not a kdgat run tree .it holds thesis.tex"):
        train(["config_store=automotive_synthetic_supervised_gat_student_no_all_samples", f"runs_root={home}"],
              project_root=project)
    assert sorted(p.name for p in home.iterdir()) == ["thesis.tex"]  # no .hydra/, no mlflow.db


def test_new_empty_and_existing_run_trees_are_accepted(tmp_path):
    check_runs_root(tmp_path / "new")
    check_runs_root(tmp_path)  # empty
    (tmp_path / "mlflow.db").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("a run tree may hold other files too")
    check_runs_root(tmp_path)
    with pytest.raises(RunsRootError, match="not a folder"):
        check_runs_root(tmp_path / "notes.txt")
