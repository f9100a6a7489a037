from pathlib import Path

import pytest
from kdgat_models.presets import PACKAGED_PRESETS, PresetError, build_model, load_presets
from kdgat_models.summary import count_parameters

PRESETS = Path(__file__).resolve().parents[3] / "configs" / "model_sizes.toml"


def test_published_sizes():
    presets = load_presets(PRESETS)
    teacher = count_parameters(build_model("gat", "teacher", presets, num_ids=2049))
    student = count_parameters(build_model("gat", "student", presets, num_ids=2049))
    assert 1.0e6 < teacher < 1.3e6  # "about 1.1 M"
    assert 30e3 < student < 70e3  # "about 50 K"
    assert build_model("dqn", "teacher", presets).net[0].out_features == 576
    assert build_model("vgae", "teacher", presets, num_ids=10).latent_dim == 96


def test_overrides_and_errors(tmp_path):
    presets = load_presets(PRESETS)
    assert build_model("gat", "student", presets, num_ids=10, hidden_dim=32).convs[0].out_channels == 32
    with pytest.raises(PresetError, match="known: gat.teacher"):
        build_model("gat", "huge", presets, num_ids=10)
    with pytest.raises(PresetError, match="num_ids"):
        build_model("vgae", "student", presets)
    bad = tmp_path / "sizes.toml"
    bad.write_text("[gat.student]\nhidden_dims = 3\n")
    with pytest.raises(PresetError, match=r"\[gat.student\] has unknown argument\(s\) hidden_dims"):
        load_presets(bad)
    bad.write_text("[transformer.student]\nwidth = 3\n")
    with pytest.raises(PresetError, match="unknown model family"):
        load_presets(bad)


def test_the_packaged_presets_work_without_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KDGAT_PROJECT_ROOT", raising=False)
    assert load_presets() == load_presets(PACKAGED_PRESETS)
    assert load_presets(PACKAGED_PRESETS) == load_presets(PRESETS)  # the project file ships the same sizes


def test_a_project_table_replaces_the_packaged_one(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "model_sizes.toml").write_text("[gat.student]\nhidden_dim = 12\n\n[gat.tiny]\nhidden_dim = 4\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KDGAT_PROJECT_ROOT", raising=False)
    presets = load_presets()
    assert presets["gat"]["student"] == {"hidden_dim": 12} and presets["gat"]["tiny"] == {"hidden_dim": 4}
    assert presets["gat"]["teacher"] == load_presets(PACKAGED_PRESETS)["gat"]["teacher"]
