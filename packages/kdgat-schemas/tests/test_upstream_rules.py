"""One rule for what a stage needs; the pipeline DAG follows a change of the table alone."""

import pytest
from kdgat_schemas import ExperimentName, UpstreamRule, pipeline_stages, upstream, upstream_needs
from kdgat_schemas import upstream_rules as upstream_module

GAT_KD = ExperimentName.parse("automotive_synthetic_supervised_gat_student_standard_curriculum")
DQN_KD = ExperimentName.parse("automotive_synthetic_fusion_dqn_student_standard_all_samples")
# an extra need no stage has today: a plain GAT wants the same-size normals-only VGAE
EXTRA = UpstreamRule(field="training_config.curriculum.vgae_run", role="extra VGAE",
                     when={"model": ("gat",), "mode": ("all_samples",)}, becomes={"model": "vgae", "distillation": "no"},
                     modes=("normals_only",))


def test_the_needs_of_each_kind_of_stage():
    needs = {need.field: [c.format() for c in need.candidates] for need in upstream_needs(GAT_KD)}
    assert needs == {
        "distillation_config.teacher_run": ["automotive_synthetic_supervised_gat_teacher_no_curriculum"],
        "training_config.curriculum.vgae_run": ["automotive_synthetic_unsupervised_vgae_student_no_normals_only",
                                                "automotive_synthetic_unsupervised_vgae_student_no_all_samples"],
    }
    fused = [n.format() for n in upstream(DQN_KD)]
    assert fused == ["automotive_synthetic_unsupervised_vgae_student_standard_normals_only",
                     "automotive_synthetic_unsupervised_vgae_student_standard_all_samples",
                     "automotive_synthetic_supervised_gat_student_standard_all_samples",
                     "automotive_synthetic_supervised_gat_student_standard_curriculum"]  # the DQN is not distilled
    assert upstream(ExperimentName.parse("automotive_synthetic_unsupervised_vgae_teacher_no_all_samples")) == []
    assert upstream(ExperimentName.parse("automotive_synthetic_pipeline")) == []


def test_the_pipeline_follows_the_table(monkeypatch):
    pipeline = ExperimentName.parse("automotive_synthetic_pipeline")
    before = {s.key: s.needs for s in pipeline_stages(pipeline)}
    assert "training_config.curriculum.vgae_run" not in before["gat_student_no"]
    monkeypatch.setattr(upstream_module, "UPSTREAM_RULES", (*upstream_module.UPSTREAM_RULES, EXTRA))
    after = {s.key: s.needs for s in pipeline_stages(pipeline)}
    assert after["gat_student_no"] == {"training_config.curriculum.vgae_run": "vgae_student_no"}
    assert after["gat_teacher_no"] == {"training_config.curriculum.vgae_run": "vgae_teacher_no"}


def test_a_need_the_pipeline_cannot_fill_is_an_error(monkeypatch):
    monkeypatch.setattr(upstream_module, "UPSTREAM_RULES", (*upstream_module.UPSTREAM_RULES, EXTRA))
    with pytest.raises(ValueError, match="needs a extra VGAE .*normals_only.* that the pipeline does not train"):
        pipeline_stages(ExperimentName.parse("automotive_synthetic_pipeline"), vgae_mode="all_samples")
