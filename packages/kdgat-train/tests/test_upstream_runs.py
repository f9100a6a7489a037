"""The run finder follows `kdgat_schemas.upstream_rules`: a new need in the table is looked up (and
explained when missing) with no change to kdgat-train."""

import pytest
from kdgat_schemas import UpstreamRule
from kdgat_schemas import upstream_rules as table
from kdgat_train.stages.upstream_runs import TeacherError, find_upstream_runs

from .test_config import _compose, settings_from

GAT = "automotive_synthetic_supervised_gat_student_no_all_samples"
DQN_KD = "automotive_synthetic_fusion_dqn_student_standard_all_samples"


def _settings(project, tmp_path, preset, *overrides):
    return settings_from(_compose(project, [f"config_store={preset}", f"runs_root={tmp_path}", *overrides]))


def test_a_stage_that_needs_nothing_finds_nothing(project, tmp_path):
    assert find_upstream_runs(_settings(project, tmp_path, GAT)) == {}


def test_named_runs_fill_the_needs_and_a_kd_fusion_needs_no_dqn_teacher(project, tmp_path):
    found = find_upstream_runs(_settings(project, tmp_path, DQN_KD, "training_config.fusion.vgae_run=/runs/v",
                                         "training_config.fusion.gat_run=/runs/g"))
    assert {field: str(path) for field, path in found.items()} == {
        "training_config.fusion.vgae_run": "/runs/v", "training_config.fusion.gat_run": "/runs/g"}


def test_the_finder_follows_the_table(project, tmp_path, monkeypatch):
    extra = UpstreamRule(field="training_config.curriculum.vgae_run", role="extra VGAE", when={"model": ("gat",)},
                         becomes={"model": "vgae", "distillation": "no"}, modes=("normals_only",))
    monkeypatch.setattr(table, "UPSTREAM_RULES", (*table.UPSTREAM_RULES, extra))
    with pytest.raises(TeacherError) as error:
        find_upstream_runs(_settings(project, tmp_path, GAT))
    message = str(error.value)
    assert "needs a completed extra VGAE run of automotive_synthetic_unsupervised_vgae_student_no_normals_only" in message
    assert "training_config.curriculum.vgae_run=RUN_DIR" in message
