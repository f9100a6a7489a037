"""Config composition and validation: presets, overrides, errors, and fields that reach their code."""

import inspect
import shutil
import subprocess
import sys

import pytest
from hydra import compose, initialize
from kdgat_models import GATWithJK, GraphAutoencoderNeighborhood, QNetwork
from kdgat_train.config.settings import DQNSize, GATSize, VGAESize
from kdgat_train.config.store import PIPELINE_EPOCHS, PRIMARY, preset_names, register
from kdgat_train.task import settings_from

from .conftest import FAST


def _compose(project, overrides):
    register(project)
    with initialize(version_base="1.3", config_path=None):
        return compose(config_name=PRIMARY, overrides=overrides)


def test_presets_follow_the_grammar_for_every_catalog_dataset():
    names = preset_names({"hcrl_ch": "automotive", "set_01": "automotive"})
    # datasets x (vgae x 2 modes, gat x 2 modes, graph-less mlp, dqn) x (teacher, student, student + KD)
    assert len(names) == 2 * 6 * 3
    assert "automotive_set01_supervised_mlp_student_standard_all_samples" in names
    assert "automotive_set01_fusion_dqn_student_standard_all_samples" in names
    assert "automotive_hcrlch_supervised_gat_teacher_no_curriculum" in names
    assert "automotive_hcrlch_unsupervised_vgae_student_no_normals_only" in names
    assert "automotive_set01_supervised_gat_student_standard_all_samples" in names
    assert not [n for n in names if "_teacher_standard_" in n]
    assert "automotive_set01_supervised_gat_teacher_no_all_samples" in names


def test_pipeline_preset_composes_with_every_model_size_and_its_options(project):
    settings = settings_from(_compose(project, ["config_store=automotive_synthetic_pipeline", "pipeline.gat_mode=curriculum",
                                                "model_sizes.gat_student.hidden_dim=12"]))
    assert settings.name.is_pipeline and settings.pipeline.gat_mode == "curriculum"
    assert settings.model_sizes["gat_student"]["hidden_dim"] == 12 and settings.model_sizes["vgae_teacher"]["hidden_dim"] == 1024
    assert settings.training_config.epochs == PIPELINE_EPOCHS
    with pytest.raises(SystemExit, match="model_sizes"):
        settings_from(_compose(project, ["config_store=automotive_synthetic_pipeline", "model_sizes.gat_student.hidden_dim=-1"]))


def test_domains_without_a_vocabulary_get_sizes_without_an_id_table(project):
    gat = settings_from(_compose(project, ["config_store=internet_synthetic_supervised_gat_student_no_all_samples"]))
    vgae = settings_from(_compose(project, ["config_store=internet_synthetic_unsupervised_vgae_teacher_no_normals_only"]))
    assert gat.model_size().id_embedding_dim == 0 and gat.model_size().hidden_dim == 24  # otherwise the student size
    assert vgae.model_size().id_embedding_dim == 0 and vgae.model_size().decode_ids is False
    water = settings_from(_compose(project, ["config_store=watertreatment_synthetic_supervised_gat_student_no_all_samples"]))
    assert water.model_size().id_embedding_dim == 8  # sensors are a fixed vocabulary
    assert (water.dataset_config.window, water.dataset_config.stride) == (24, 12)  # the catalog entry's defaults


def test_no_arguments_runs_the_synthetic_pipeline(project):
    assert settings_from(_compose(project, [])).experiment_name == "automotive_synthetic_pipeline"


def test_preset_selects_model_size_and_dataset_and_overrides_apply(project):
    config = _compose(project, ["config_store=automotive_synthetic_unsupervised_vgae_teacher_no_all_samples",
                                "model_size_config.hidden_dim=64", *FAST])
    settings = settings_from(config)
    assert settings.name.model == "vgae" and settings.name.size == "teacher"
    size = settings.model_size()
    assert size.hidden_dim == 64 and size.latent_dim == 96  # teacher preset, width overridden
    assert settings.training_config.epochs == 1 and settings.device.accelerator == "cpu"
    assert settings.dataset_config.name == "synthetic"
    assert settings.runs_root == str(project / "experimentruns")


@pytest.mark.parametrize("family", ["gat", "vgae"])
def test_hidden_dim_override_changes_every_family(project, family):
    preset = {"gat": "automotive_synthetic_supervised_gat_student_no_all_samples",
              "vgae": "automotive_synthetic_unsupervised_vgae_student_no_all_samples"}[family]
    settings = settings_from(_compose(project, [f"config_store={preset}", "model_size_config.hidden_dim=32"]))
    assert settings.model_size().hidden_dim == 32


@pytest.mark.parametrize(
    ("override", "message"),
    [("training_config.epochs=-1", "training_config.epochs"), ("training_config.loss=hinge", "training_config.loss"),
     ("model_size_config.heads=0", "heads"), ("dataset_config.name=../../etc", "is not a catalog key")],
)
def test_bad_values_fail_naming_the_field(project, override, message, capsys):
    config = _compose(project, ["config_store=automotive_synthetic_supervised_gat_student_no_all_samples", override])
    with pytest.raises(SystemExit) as error:
        settings_from(config)
    assert message in str(error.value)


def test_distillation_mode_must_match_the_name(project):
    config = _compose(project, ["config_store=automotive_synthetic_supervised_gat_student_no_all_samples",
                                "distillation_config=standard"])
    with pytest.raises(SystemExit, match="distillation_config.mode='standard' but the experiment name says 'no'"):
        settings_from(config)


def test_unknown_device_and_preset_list_the_allowed_values(project):
    from hydra.errors import MissingConfigException

    with pytest.raises(MissingConfigException, match="device/tpu"):
        _compose(project, ["device=tpu"])
    with pytest.raises(MissingConfigException, match="config_store"):
        _compose(project, ["config_store=automotive_hcrlch_supervised_gat_student_no_all_samples"])  # not in this catalog


@pytest.mark.parametrize(("settings", "target"), [(GATSize, GATWithJK), (VGAESize, GraphAutoencoderNeighborhood), (DQNSize, QNetwork)])
def test_model_size_fields_are_constructor_arguments(settings, target):
    parameters = inspect.signature(target).parameters
    assert set(settings.model_fields) <= set(parameters), set(settings.model_fields) - set(parameters)
    for field, info in settings.model_fields.items():
        assert info.default == parameters[field].default, field  # same defaults as the model


def test_cli_checks_names_and_answers_cfg_job_without_torch(project):
    check = (
        "import atexit, sys; atexit.register(lambda: print('TORCH', 'torch' in sys.modules)); "
        "sys.argv = ['kdgat-train', '--cfg', 'job', 'config_store=automotive_synthetic_supervised_gat_student_no_all_samples']; "
        "from kdgat_train.cli import main; main()"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert "experiment_name: automotive_synthetic_supervised_gat_student_no_all_samples" in out.stdout
    assert "TORCH False" in out.stdout
    help_check = check.replace("'--cfg', 'job', 'config_store=automotive_synthetic_supervised_gat_student_no_all_samples'", "'--help'")
    out = subprocess.run([sys.executable, "-c", help_check], capture_output=True, text=True, timeout=120)
    assert "config groups" in out.stdout and "device: auto, cpu, cuda" in out.stdout and "TORCH False" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "kdgat_train.cli", "config_store=automotive_synthetic_supervised_gat_studnt_no_all_samples"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "nearest valid name: automotive_synthetic_supervised_gat_student_no_all_samples" in bad.stderr
    # grammatical, but no such dataset in the catalog: refused before Hydra, which would list only the presets
    # registered for this command line (a command names its preset, so only that one is handed to Hydra)
    unknown = subprocess.run([sys.executable, "-m", "kdgat_train.cli", "config_store=automotive_synthetc_supervised_gat_student_no_all_samples"],
                             capture_output=True, text=True, timeout=120)
    assert unknown.returncode != 0 and "no preset 'automotive_synthetc_supervised_gat_student_no_all_samples'" in unknown.stderr
    assert "did you mean automotive_synthetic_supervised_gat_student_no_all_samples" in unknown.stderr
    listed = subprocess.run([sys.executable, "-m", "kdgat_train.cli", "--list-presets", "automotive_synthetic", "gat", "student"],
                            capture_output=True, text=True, timeout=120)
    assert listed.stdout.split() == sorted(f"automotive_synthetic_supervised_gat_student_{kd}_{mode}"
                                           for kd in ("no", "standard") for mode in ("all_samples", "curriculum"))
    other = check.replace("'config_store=automotive_synthetic_supervised_gat_student_no_all_samples'",
                          "'config_store=automotive_synthetic_unsupervised_vgae_teacher_no_normals_only'")
    assert "experiment_name: automotive_synthetic_unsupervised_vgae_teacher_no_normals_only" in subprocess.run(
        [sys.executable, "-c", other], capture_output=True, text=True, timeout=120).stdout


def test_sizes_come_from_kdgat_models_when_the_project_has_none(tmp_path):
    from kdgat_train.config.store import size_presets

    packaged = size_presets(tmp_path)  # no configs/model_sizes.toml here
    assert packaged["gat"]["student"]["hidden_dim"] == 24 and packaged["vgae"]["teacher"]["latent_dim"] == 96
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "model_sizes.toml").write_text("[gat.student]\nhidden_dim = 12\n")
    overridden = size_presets(tmp_path)
    assert overridden["gat"]["student"] == {"hidden_dim": 12} and overridden["gat"]["teacher"] == packaged["gat"]["teacher"]


PRESETS = {
    "vgae": "automotive_synthetic_unsupervised_vgae_student_no_all_samples",
    "vgae_kd": "automotive_synthetic_unsupervised_vgae_student_standard_all_samples",
    "gat": "automotive_synthetic_supervised_gat_student_no_all_samples",
    "gat_kd": "automotive_synthetic_supervised_gat_student_standard_all_samples",
    "dqn": "automotive_synthetic_fusion_dqn_student_no_all_samples",
}


@pytest.mark.parametrize(("family", "override", "used_by"), [
    ("vgae", "training_config.loss=focal", "GAT and graph-less MLP"),
    ("vgae", "training_config.curriculum.end_ratio=5", "curriculum GAT"),
    ("vgae_kd", "distillation_config.temperature=2", "KD GAT student and KD graph-less MLP student"),
    ("gat", "training_config.vgae.kl_weight=0.5", "VGAE"),
    ("gat", "training_config.fusion.gamma=0.5", "fusion DQN"),
    ("gat", "distillation_config.alpha=0.5", "KD GAT student and KD graph-less MLP student"),
    ("gat_kd", "distillation_config.latent_weight=2", "KD VGAE student"),
    ("dqn", "training_config.weight_decay=0.1", "VGAE and GAT and graph-less MLP"),
    ("dqn", "training_config.id_dropout=0.5", "VGAE and GAT and graph-less MLP"),
    ("dqn", "training_config.gradient_clip=2", "VGAE and GAT and graph-less MLP"),
    ("dqn", "distillation_config.teacher_run=/runs/x", "KD VGAE student and KD GAT student and KD graph-less MLP student"),
])
def test_a_stage_refuses_a_field_it_does_not_use(project, family, override, used_by):
    with pytest.raises(SystemExit) as error:
        settings_from(_compose(project, [f"config_store={PRESETS[family]}", override]))
    message = str(error.value)
    assert PRESETS[family] in message and f"{override.split('=')[0]}=" in message and f"only {used_by} stages" in message


@pytest.mark.parametrize(("family", "override"), [
    ("gat_kd", "distillation_config.temperature=2"), ("vgae_kd", "distillation_config.latent_weight=2"),
    ("dqn", "training_config.fusion.gamma=0.5"), ("vgae", "training_config.weight_decay=0.1"),
    ("dqn", "training_config.weight_decay=0.0"),  # the default is not an override
])
def test_a_field_the_stage_uses_is_accepted(project, family, override):
    settings_from(_compose(project, [f"config_store={PRESETS[family]}", override]))


def test_the_pipeline_gives_each_stage_only_the_fields_it_uses(project):
    from kdgat_train.pipeline.dag import pipeline_stages, stage_settings

    pipeline = settings_from(_compose(project, ["config_store=automotive_synthetic_pipeline",
                                                "training_config.weight_decay=0.1", "training_config.fusion.gamma=0.3",
                                                "distillation_config.temperature=2"]))
    stages = {s.key: s for s in pipeline_stages(pipeline.name)}
    run_dirs = {key: f"/runs/{key}" for key in stages}
    dqn = stage_settings(pipeline, stages["dqn_student_standard"], run_dirs)
    gat_kd = stage_settings(pipeline, stages["gat_student_standard"], run_dirs)
    vgae = stage_settings(pipeline, stages["vgae_student_no"], run_dirs)
    assert (dqn.training_config.weight_decay, dqn.training_config.fusion.gamma) == (0.0, 0.3)
    assert (gat_kd.training_config.weight_decay, gat_kd.training_config.fusion.gamma) == (0.1, 0.0)
    assert gat_kd.distillation_config.temperature == 2 and vgae.distillation_config.temperature == 4.0


def test_the_options_help_lists_are_the_groups_the_store_registers(project):
    from kdgat_train.config.preset_names import config_options
    from kdgat_train.config.store import register, store

    presets = register(project)
    options = config_options(project)
    assert sorted(options["config_store"]) == sorted(presets)
    registered: dict[str, set[str]] = {}
    for entry in store:
        if entry["group"]:
            registered.setdefault(entry["group"], set()).add(entry["name"])
    assert {group: set(names) for group, names in options.items()} == registered
    only = register(project, only_presets={presets[0]})  # the same names, one preset handed to Hydra
    assert only == presets


def test_a_config_written_before_the_training_groups_were_nested_still_loads():
    from kdgat_train.config.settings import TrainingSettings
    from pydantic import ValidationError

    nested = TrainingSettings(fusion={"gamma": 0.3, "vgae_run": "/r"}, vgae={"kl_weight": 0.5}, curriculum={"end_ratio": 4})
    flat = TrainingSettings.model_validate({"fusion_gamma": 0.3, "fusion_vgae_run": "/r", "vgae_kl_weight": 0.5,
                                            "curriculum_end_ratio": 4})
    assert flat == nested and flat.fusion.gamma == 0.3 and flat.curriculum.start_ratio == 1.0
    with pytest.raises(ValidationError, match=r"fusion\.gama\n\s+Extra inputs are not permitted"):
        TrainingSettings.model_validate({"fusion_gama": 1})


def test_an_override_with_a_field_name_from_before_the_nesting_gets_the_new_name():
    from kdgat_train.config.renamed_fields import (
        RenamedFieldError,
        check_renamed_overrides,
        current_field_name,
    )

    check_renamed_overrides(["training_config.fusion.gamma=0.5", "training_config.focal_gamma=3"])  # current names
    with pytest.raises(RenamedFieldError, match=r"training_config.fusion_gamma is now training_config.fusion.gamma; "
                                                r"training_config.curriculum_end_ratio is now training_config.curriculum.end_ratio"):
        check_renamed_overrides(["training_config.fusion_gamma=0.5", "training_config.curriculum_end_ratio=3"])
    assert current_field_name("training_config.fusion_vgae_run") == "training_config.fusion.vgae_run"
    assert current_field_name("distillation_config.teacher_run") == "distillation_config.teacher_run"


def test_an_id_free_catalog_entry_gets_models_that_never_read_the_ids(tmp_path, monkeypatch):
    """``entity_ids: false`` (issue 13, unknown vehicles): no ID embedding or ID decoders in any preset of the
    entry, so relabelling every CAN ID (a car never seen) leaves the scores unchanged; the ID-based entry's do change."""
    import torch
    from kdgat_train.families import family_of

    from .conftest import REPO

    (tmp_path / "configs").mkdir()
    entry = "    domain: automotive\n    path: data/automotive/synthetic\n    format: can_train_test\n"
    (tmp_path / "configs" / "datasets.yaml").write_text(
        f"datasets:\n  synthetic:\n{entry}  idfree:\n{entry}    entity_ids: false\n")
    shutil.copy(REPO / "configs" / "model_sizes.toml", tmp_path / "configs" / "model_sizes.toml")
    monkeypatch.setenv("KDGAT_PROJECT_ROOT", str(tmp_path))
    pipeline = settings_from(_compose(tmp_path, ["config_store=automotive_idfree_pipeline"]))
    assert pipeline.model_sizes["gat_student"]["id_embedding_dim"] == 0
    assert pipeline.model_sizes["vgae_teacher"]["decode_ids"] is False

    torch.manual_seed(0)
    nodes, edges = 12, torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [1, 2, 0, 4, 5, 3, 7, 8, 6, 10, 11, 9]])
    x, edge_attr, batch = torch.rand(nodes, 10), torch.rand(edges.size(1), 11), torch.arange(4).repeat_interleave(3)
    node_id, relabelled = torch.randint(1, 50, (nodes,)), torch.randint(1, 50, (nodes,))
    for dataset, ids_matter in (("idfree", False), ("synthetic", True)):
        for preset in (f"automotive_{dataset}_supervised_gat_student_no_all_samples",
                       f"automotive_{dataset}_unsupervised_vgae_student_no_normals_only"):
            settings = settings_from(_compose(tmp_path, [f"config_store={preset}"]))
            assert (settings.model_size().id_embedding_dim == 0) is not ids_matter
            net = family_of(settings.name).build_network(settings, 60, (10, 11)).eval()
            with torch.no_grad():
                if settings.name.model == "gat":
                    scores = [net(x, ids, edges, edge_attr, batch, 4).logits for ids in (node_id, relabelled)]
                else:
                    scores = [net(x, ids, edges, edge_attr).mu for ids in (node_id, relabelled)]
            assert torch.equal(scores[0], scores[1]) is not ids_matter, preset
