"""Cluster profiles: validated, bad fields named with the file, per-stage overrides."""

from pathlib import Path

import pytest
from kdgat_cluster.profile import ProfileError, load_profile

REPO = Path(__file__).resolve().parents[3]


def test_shipped_profiles_load():
    osc = load_profile(REPO, "osc")
    assert osc.gpus == 1 and osc.modules == [] and osc.gpu_modules == ["cuda/12.4.1"]
    assert osc.resources("vgae", "teacher").memory == "64G" and osc.resources("vgae", "teacher").time == "08:00:00"
    assert osc.resources("dqn", "student").gpus_per_node == 0 and osc.resources("dqn", "student").partition == "cpu"
    assert load_profile(REPO, "local").gpus == 0


@pytest.mark.parametrize(("text", "message"), [
    ('cpus_per_task = 0', "cpus_per_task"),
    ('partition = "gpu; rm -rf /"', "partition"),
    ('acount = "x"', "acount"),
    ('time = "soon"', "time"),
    ('cpus_per_task = ', "Invalid"),
])
def test_bad_profile_names_the_file_and_field(tmp_path, text, message):
    (tmp_path / "configs" / "cluster").mkdir(parents=True)
    (tmp_path / "configs" / "cluster" / "bad.toml").write_text(text + "\n")
    with pytest.raises(ProfileError) as error:
        load_profile(tmp_path, "bad").resources()
    assert "bad.toml" in str(error.value) and message in str(error.value)


def test_missing_profile_lists_the_available_ones():
    with pytest.raises(ProfileError, match="available: local, osc"):
        load_profile(REPO, "nosuch")
