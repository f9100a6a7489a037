from pathlib import Path

import pytest
from kdgat_models.presets import PresetError, build_model, load_presets
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
