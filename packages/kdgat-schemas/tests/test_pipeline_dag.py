"""The pipeline DAG: every stage after the stages it needs, KD students on their teachers, fusion per variant."""

import pytest
from kdgat_schemas import ExperimentName
from kdgat_schemas.pipeline_dag import check_pipeline_modes, pipeline_stages

PIPELINE = ExperimentName.parse("automotive_synthetic_pipeline")


@pytest.mark.parametrize("gat_mode", ["all_samples", "curriculum"])
def test_every_stage_follows_what_it_needs(gat_mode):
    stages = pipeline_stages(PIPELINE, gat_mode=gat_mode)
    seen = set()
    for stage in stages:
        assert set(stage.upstream) <= seen, stage.key
        seen.add(stage.key)
    assert len(stages) == 11 and len(seen) == 11


def test_kd_students_need_their_teachers_and_fusion_its_variant():
    stages = {s.key: s for s in pipeline_stages(PIPELINE, vgae_mode="all_samples", gat_mode="curriculum")}
    assert stages["gat_student_standard"].needs == {"distillation_config.teacher_run": "gat_teacher_no",
                                                    "training_config.curriculum.vgae_run": "vgae_student_no"}
    assert stages["dqn_student_standard"].upstream == ["vgae_student_standard", "gat_student_standard"]
    # the graph-less student: no teacher of its own, KD from the GAT teacher (whatever the GAT's mode), no curriculum
    assert "mlp_teacher_no" not in stages and stages["mlp_student_no"].needs == {}
    assert stages["mlp_student_standard"].needs == {"distillation_config.teacher_run": "gat_teacher_no"}
    assert stages["mlp_student_standard"].name.format() == "automotive_synthetic_supervised_mlp_student_standard_all_samples"
    assert stages["vgae_teacher_no"].name.format() == "automotive_synthetic_unsupervised_vgae_teacher_no_all_samples"
    assert stages["dqn_teacher_no"].variant_label == "teacher" and stages["gat_student_standard"].variant_label == "student+KD"


def test_refuses_a_stage_name():
    with pytest.raises(ValueError, match="not a pipeline"):
        pipeline_stages(ExperimentName.parse("automotive_synthetic_supervised_gat_student_no_all_samples"))


def test_pipeline_modes_outside_the_grammar_are_refused_naming_both():
    check_pipeline_modes("normals_only", "curriculum")  # both in the grammar
    with pytest.raises(ValueError, match="'curriculum'.*'all_samples'.*expected"):
        check_pipeline_modes("curriculum", "all_samples")  # a GAT mode given to the VGAE
