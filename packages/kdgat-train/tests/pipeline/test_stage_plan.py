"""A pipeline plans from its training data: no stage that learns from labels on a training split without attacks."""

import shutil
from pathlib import Path

import pytest
from kdgat_data.domains.automotive.synthetic.generator import generate_dataset
from kdgat_train.pipeline.stage_plan import left_out_job, plan_stages

from ..conftest import REPO

CATALOG = """
datasets:
  parked:
    domain: automotive
    path: data/automotive/parked
    format: can_train_test
"""
LABEL_STAGES = {*(f"{model}_{variant}" for model in ("gat", "dqn") for variant in ("teacher_no", "student_no",
                                                                                  "student_standard")),
                "mlp_student_no", "mlp_student_standard"}


@pytest.fixture(scope="module")
def normal_only_project(tmp_path_factory):
    """A project whose one dataset trains on attack-free traffic only (a parked car) and is tested on DoS."""
    root = tmp_path_factory.mktemp("normal_only")
    (root / "configs").mkdir()
    (root / "configs" / "datasets.yaml").write_text(CATALOG)
    shutil.copy(REPO / "configs" / "model_sizes.toml", root / "configs" / "model_sizes.toml")
    generated = root / "generated"
    generate_dataset(generated, seed=5, frames=2000, attacks=["dos"])
    for folder in generated.iterdir():
        if folder.is_dir() and folder.name != "train_02_with_attacks":
            shutil.copytree(folder, root / "data" / "automotive" / "parked" / folder.name)
    return root


def _settings(root: Path, *overrides):
    from kdgat_train.task import settings_from

    from ..test_config import _compose

    return settings_from(_compose(root, ["config_store=automotive_parked_pipeline", "dataset_config.window=50",
                                         "dataset_config.stride=50", *overrides]))


def test_a_training_split_without_attacks_leaves_out_every_stage_that_learns_from_labels(normal_only_project, monkeypatch):
    monkeypatch.setenv("KDGAT_PROJECT_ROOT", str(normal_only_project))
    plan = plan_stages(_settings(normal_only_project))
    assert {stage.key for stage in plan.stages} == {"vgae_teacher_no", "vgae_student_no", "vgae_student_standard"}
    assert {stage.key for stage in plan.left_out} == LABEL_STAGES
    assert plan.left_out_baselines == ["gbdt"] and not plan.forced
    line = plan.message()
    assert "\n" not in line and "0 attack windows" in line and "gat_teacher_no" in line
    assert "baseline_gbdt" in line and "pipeline.supervised=force" in line

    gat_job = _settings(normal_only_project, "pipeline.only=gat_student_standard")
    assert "0 attack windows" in left_out_job(gat_job)
    assert left_out_job(_settings(normal_only_project, "pipeline.only=vgae_student_standard")) is None
    assert left_out_job(_settings(normal_only_project, "pipeline.only=baseline_timing")) is None

    forced = plan_stages(_settings(normal_only_project, "pipeline.supervised=force"))
    assert len(forced.stages) == 11 and not forced.left_out
    assert forced.forced == {*LABEL_STAGES, "baseline_gbdt"} and "force" in forced.message()


def test_a_minimum_above_the_attack_windows_leaves_them_out_too(project):
    from kdgat_train.task import settings_from

    from ..test_config import _compose

    settings = settings_from(_compose(project, ["config_store=automotive_synthetic_pipeline"]))
    plan = plan_stages(settings)
    assert len(plan.stages) == 11 and plan.message() is None  # the tiny synthetic car trains on a few attacks
    strict = plan_stages(settings_from(_compose(project, ["config_store=automotive_synthetic_pipeline",
                                                          "pipeline.min_attack_windows=100000"])))
    assert {s.key for s in strict.left_out} == LABEL_STAGES and "min_attack_windows=100000" in strict.message()


def test_a_cluster_job_of_a_left_out_stage_ends_at_once_saying_why(normal_only_project, monkeypatch, capsys):
    """Where kdgat-cluster could not read the data to plan, the job of a stage that cannot learn trains nothing
    and succeeds, so the jobs after it still run."""
    from kdgat_train.api import train

    monkeypatch.setenv("KDGAT_PROJECT_ROOT", str(normal_only_project))
    runs = normal_only_project / "runs"
    assert train(["config_store=automotive_parked_pipeline", "dataset_config.window=50", "dataset_config.stride=50",
                  "pipeline.only=gat_teacher_no", f"runs_root={runs}"], project_root=normal_only_project) == []
    assert "pipeline.only=gat_teacher_no: left out, nothing trained: the training split has 0 attack windows" in \
        capsys.readouterr().out
    assert not list(runs.glob("automotive/parked/supervised/**/run.json"))
