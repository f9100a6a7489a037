"""kdgat-cluster installs alone on a login node: its wheel (plus kdgat-schemas') needs no torch."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_without_torch(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    dist, venv = tmp_path / "dist", tmp_path / "venv"
    for package in ("kdgat-cluster", "kdgat-schemas"):
        subprocess.run([uv, "build", "--package", package, "--wheel", "--out-dir", str(dist)], cwd=REPO, check=True,
                       capture_output=True)
    subprocess.run([uv, "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    subprocess.run([uv, "pip", "install", "--python", str(python), *map(str, dist.glob("*.whl"))], check=True,
                   capture_output=True)
    installed = subprocess.run([uv, "pip", "list", "--python", str(python)], check=True, capture_output=True, text=True)
    names = {line.split()[0] for line in installed.stdout.splitlines()[2:]}
    assert {"kdgat-cluster", "kdgat-schemas", "pydantic", "click", "pyyaml"} <= names
    assert not names & {"torch", "mlflow", "lightning", "kdgat-train", "kdgat-data"}
    for command in ("kdgat-cluster", "oscjobmanager"):
        done = subprocess.run([str(venv / "bin" / command), "--help"], capture_output=True, text=True)
        assert done.returncode == 0 and "sweep" in done.stdout
