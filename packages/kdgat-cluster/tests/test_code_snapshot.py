"""The code a job runs is frozen at submission: the committed tree (plus, when allowed, the
uncommitted diff and untracked files), once per distinct content."""

import json
import subprocess

import pytest
from kdgat_cluster.code_snapshot import SnapshotError, take_snapshot

from .conftest import commit_all


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "project"
    (root / "packages" / "kdgat-demo" / "src" / "kdgat_demo").mkdir(parents=True)
    (root / "packages" / "kdgat-demo" / "src" / "kdgat_demo" / "__init__.py").write_text("VALUE = 1\n")
    (root / "configs").mkdir()
    (root / "configs" / "datasets.yaml").write_text("datasets: {}\n")
    commit = commit_all(root)
    return root, commit


def test_a_clean_tree_is_archived_once_per_commit(checkout):
    root, commit = checkout
    snapshot = take_snapshot(root, root / "runs")
    assert snapshot.commit == commit and not snapshot.dirty
    assert (snapshot.path / "packages/kdgat-demo/src/kdgat_demo/__init__.py").read_text() == "VALUE = 1\n"
    assert snapshot.python_path() == [str(snapshot.path / "packages/kdgat-demo/src")]
    assert json.loads((snapshot.path / "snapshot.json").read_text())["commit"] == commit
    assert take_snapshot(root, root / "runs").path == snapshot.path  # the same content: the same snapshot
    (root / "packages/kdgat-demo/src/kdgat_demo/__init__.py").write_text("VALUE = 2\n")
    second = commit_all(root, "change")
    assert take_snapshot(root, root / "runs").path != snapshot.path and second != commit


def test_uncommitted_changes_are_refused_unless_allowed_and_then_frozen_too(checkout):
    root, commit = checkout
    (root / "packages/kdgat-demo/src/kdgat_demo/__init__.py").write_text("VALUE = 3\n")
    (root / "packages/kdgat-demo/src/kdgat_demo/extra.py").write_text("NEW = True\n")
    with pytest.raises(SnapshotError, match=r"uncommitted changes .*__init__.py.*extra.py.*--allow-dirty"):
        take_snapshot(root, root / "runs")
    assert not (root / "runs").exists()  # nothing written
    snapshot = take_snapshot(root, root / "runs", allow_dirty=True)
    assert snapshot.dirty and snapshot.commit == commit
    assert (snapshot.path / "packages/kdgat-demo/src/kdgat_demo/__init__.py").read_text() == "VALUE = 3\n"
    assert (snapshot.path / "packages/kdgat-demo/src/kdgat_demo/extra.py").read_text() == "NEW = True\n"
    (root / "packages/kdgat-demo/src/kdgat_demo/__init__.py").write_text("VALUE = 4\n")  # edited after submission
    assert (snapshot.path / "packages/kdgat-demo/src/kdgat_demo/__init__.py").read_text() == "VALUE = 3\n"
    assert take_snapshot(root, root / "runs", allow_dirty=True).path != snapshot.path


def test_a_folder_that_is_not_a_git_checkout_is_refused(tmp_path):
    (tmp_path / "configs").mkdir()
    if subprocess.run(["git", "-C", str(tmp_path), "rev-parse"], capture_output=True).returncode == 0:
        pytest.skip("the temporary folder is inside a git checkout")
    with pytest.raises(SnapshotError, match="is not a git checkout"):
        take_snapshot(tmp_path, tmp_path / "runs")


DEMO_PACKAGE = """
[project]
name = "kdgat-demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = []

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""


@pytest.fixture
def workspace(checkout):
    """The checkout as a uv workspace with a committed uv.lock (as the project is)."""
    root, _ = checkout
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    (root / "packages" / "kdgat-demo" / "pyproject.toml").write_text(DEMO_PACKAGE)
    subprocess.run([_uv(), "lock", "--offline", "--quiet"], cwd=root, check=True, capture_output=True)
    return root, commit_all(root, "a uv workspace")


def _uv():
    from kdgat_cluster.code_snapshot import _uv

    found = _uv()
    if found is None:
        pytest.skip("uv is not installed")
    return found


def test_a_snapshot_gets_its_own_environment_synced_once_from_its_lock(workspace, monkeypatch):
    root, _ = workspace
    from kdgat_cluster.code_snapshot import sync_environment

    snapshot = take_snapshot(root, root / "runs")
    assert snapshot.venv is None and "PYTHONPATH" in snapshot.environment()  # not synced yet: sources on PYTHONPATH
    venv = sync_environment(snapshot, say=lambda message: None)
    assert venv == snapshot.path / ".venv" == snapshot.venv
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", "import kdgat_demo; print(kdgat_demo.__file__, kdgat_demo.VALUE)"],
                              capture_output=True, text=True, check=True, cwd="/", env={"PATH": "/usr/bin:/bin"}).stdout
    assert imported.split() == [str(snapshot.path / "packages/kdgat-demo/src/kdgat_demo/__init__.py"), "1"]
    assert "PYTHONPATH" not in snapshot.environment()  # its environment installs the snapshot's own sources
    recorded = json.loads((snapshot.path / "environment.json").read_text())
    assert len(recorded["lock_sha256"]) == 64 and recorded["online"] is False  # from uv's cache, no download
    again = take_snapshot(root, root / "runs")
    monkeypatch.setenv("PATH", "/nonexistent")  # a second sync would need uv: it does not run again
    monkeypatch.delenv("UV", raising=False)
    assert sync_environment(again, say=lambda message: None) == venv


def test_a_lock_that_cannot_sync_is_an_error_and_leaves_no_snapshot(workspace):
    root, _ = workspace
    from kdgat_cluster.profile import ClusterProfile
    from kdgat_cluster.submit import freeze_code

    (root / "uv.lock").write_text("version = 1\n[[package]]\nname = \n")  # a broken lock, committed
    commit_all(root, "broken lock")
    with pytest.raises(SnapshotError, match=r"uv sync --frozen in .* failed \(uv.lock of commit"):
        freeze_code(root, ClusterProfile(), root / "runs", say=lambda message: None)
    assert not (root / "runs").exists()  # nothing half-synced is left to be reused
    profile = ClusterProfile(snapshot_environment="profile")  # the profile's venv instead: no sync at all
    snapshot = freeze_code(root, profile, root / "runs", say=lambda message: None)
    assert snapshot.venv is None and not (snapshot.path / ".venv").exists()
