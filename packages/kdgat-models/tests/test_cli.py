from pathlib import Path

from kdgat_models.cli import main

PRESETS = Path(__file__).resolve().parents[3] / "configs" / "model_sizes.toml"


def test_summary_table(capsys):
    main(["summary", "--vocab-size", "100", "--presets", str(PRESETS)])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith(("gat", "vgae", "dqn"))]
    assert [(r[0], r[1]) for r in rows] == [(f, s) for f in ("gat", "vgae", "dqn") for s in ("teacher", "student")]
    assert all(int(r[2].replace(",", "")) > 0 and float(r[3]) > 0 for r in rows)


def test_summary_works_from_an_installed_wheel_alone(tmp_path):
    """A plain install of kdgat-models (no project, no configs/) still knows the published sizes."""
    import shutil
    import subprocess

    import pytest

    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    repo = Path(__file__).resolve().parents[3]
    subprocess.run([uv, "build", "--package", "kdgat-models", "--wheel", "--out-dir", str(tmp_path / "dist")], cwd=repo,
                   check=True, capture_output=True)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    import zipfile

    assert "kdgat_models/model_sizes.toml" in zipfile.ZipFile(wheel).namelist()
    # run the installed wheel's code from a folder without configs/, with this environment's torch
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    import os
    import sys

    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("KDGAT_PROJECT_ROOT", None)
    done = subprocess.run([sys.executable, "-c", "import kdgat_models, sys; assert kdgat_models.__file__.startswith(sys.argv[1]);"
                           "from kdgat_models.cli import main; main(['summary', '--vocab-size', '50'])", str(site)],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [line.split()[:2] for line in done.stdout.splitlines() if line.startswith("gat")] == [["gat", "teacher"],
                                                                                               ["gat", "student"]]
