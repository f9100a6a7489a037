import pytest
from kdgat_schemas import ExperimentName, ExperimentNameError, all_stage_names, dataset_token


def test_parses_stage_name_into_tokens():
    name = ExperimentName.parse("automotive_hcrlch_unsupervised_vgae_student_no_all_samples")
    assert (name.domain, name.dataset, name.learning, name.model) == ("automotive", "hcrlch", "unsupervised", "vgae")
    assert (name.size, name.distillation, name.mode) == ("student", "no", "all_samples")
    assert name.experiment == "automotive_hcrlch_unsupervised_vgae"
    assert name.variant == "student_no_all_samples"
    assert not name.is_pipeline


def test_parses_pipeline_name():
    name = ExperimentName.parse("automotive_synthetic_pipeline")
    assert name.is_pipeline and name.dataset == "synthetic"
    assert str(name) == "automotive_synthetic_pipeline"


@pytest.mark.parametrize("name", [n.format() for n in all_stage_names("internet", "set01")])
def test_every_generated_stage_name_round_trips(name):
    assert ExperimentName.parse(name).format() == name


def test_stage_names_cover_grammar():
    names = {n.format() for n in all_stage_names("automotive", "hcrlch")}
    # vgae: 2 modes, gat: 2 modes, mlp: 1 mode, dqn: 1 mode; x 2 sizes x 2 distillations
    assert len(names) == (2 + 2 + 1 + 1) * 2 * 2
    assert "automotive_hcrlch_supervised_gat_teacher_standard_curriculum" in names


@pytest.mark.parametrize(
    ("bad", "token", "allowed", "nearest"),
    [
        ("automotive_hcrlch_unsupervised_vgea_student_no_all_samples", "model", "vgae",
         "automotive_hcrlch_unsupervised_vgae_student_no_all_samples"),
        ("automotiv_hcrlch_supervised_gat_student_no_all_samples", "domain", "automotive, internet, watertreatment",
         "automotive_hcrlch_supervised_gat_student_no_all_samples"),
        ("automotive_hcrlch_supervised_gat_student_no_normals_only", "mode of gat", "all_samples, curriculum",
         "automotive_hcrlch_supervised_gat_student_no_all_samples"),
        ("automotive_hcrlch_supervised_gat_pupil_no_all_samples", "size", "teacher, student",
         "automotive_hcrlch_supervised_gat_student_no_all_samples"),
        ("automotive_hcrlch_fusion_dqn_student_soft_all_samples", "distillation", "no, standard",
         "automotive_hcrlch_fusion_dqn_student_standard_all_samples"),
    ],
)
def test_bad_token_lists_allowed_values_and_nearest_name(bad, token, allowed, nearest):
    with pytest.raises(ExperimentNameError) as error:
        ExperimentName.parse(bad)
    message = str(error.value)
    assert f"{token} " in message and allowed in message
    assert nearest in message
    ExperimentName.parse(nearest)  # the suggestion itself is valid


def test_upper_case_model_is_refused():
    with pytest.raises(ExperimentNameError, match="lower case"):
        ExperimentName.parse("automotive_hcrlch_unsupervised_VGAE_student_no_all_samples")


def test_too_few_tokens_explains_grammar():
    with pytest.raises(ExperimentNameError, match=r"\{domain\}_\{dataset\}_pipeline"):
        ExperimentName.parse("automotive_hcrlch_unsupervised_vgae")


def test_dataset_token_drops_underscores():
    assert dataset_token("hcrl_ch") == "hcrlch"
    assert dataset_token("set_01") == "set01"
    with pytest.raises(ExperimentNameError):
        dataset_token("bad-name")


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, kdgat_schemas; print(any(m.startswith(('torch', 'numpy', 'polars')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_baseline_names_parse_format_and_have_their_own_run_folder():
    from kdgat_schemas import RunPaths

    name = ExperimentName.parse("automotive_road_baseline_gbdt")
    assert name.is_baseline and not name.is_pipeline and name.model == "gbdt"
    assert name.format() == "automotive_road_baseline_gbdt" and name.experiment == "automotive_road_baseline_gbdt"
    assert name.variant == "baseline"
    assert RunPaths("runs").variant_dir(name).as_posix() == "runs/automotive/road/baseline/gbdt"
    with pytest.raises(ExperimentNameError, match="baseline 'svm' is not allowed; expected one of gbdt, timing, pca, iforest"):
        ExperimentName.parse("automotive_road_baseline_svm")


def test_register_domain_adds_a_domain_once_and_refuses_bad_or_conflicting_ones():
    from kdgat_schemas import DOMAIN_HAS_VOCABULARY, DOMAINS, register_domain

    before = list(DOMAINS), dict(DOMAIN_HAS_VOCABULARY)
    try:
        with pytest.raises(ExperimentNameError, match="lower-case letters only"):
            register_domain("power_grid", has_vocabulary=True)
        with pytest.raises(ExperimentNameError, match="known with has_vocabulary=False"):
            register_domain("internet", has_vocabulary=True)
        register_domain("powergrid", has_vocabulary=False)
        register_domain("powergrid", has_vocabulary=False)  # again: nothing changes
        assert DOMAINS.count("powergrid") == 1 and DOMAIN_HAS_VOCABULARY["powergrid"] is False
        name = ExperimentName.parse("powergrid_synthetic_supervised_gat_student_no_all_samples")
        assert name.experiment == "powergrid_synthetic_supervised_gat"
    finally:
        DOMAINS[:] = before[0]
        DOMAIN_HAS_VOCABULARY.clear()
        DOMAIN_HAS_VOCABULARY.update(before[1])
    with pytest.raises(ExperimentNameError):
        ExperimentName.parse("powergrid_synthetic_supervised_gat_student_no_all_samples")
