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
