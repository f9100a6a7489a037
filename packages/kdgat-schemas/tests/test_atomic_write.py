import os

import pytest
from kdgat_schemas import atomic_write


def test_writes_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "run.json"
    atomic_write(target, "first\n")
    atomic_write(target, "second\n")
    assert target.read_text() == "second\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "config.yaml"
    atomic_write(target, "old\n")
    with pytest.raises(TypeError):
        atomic_write(target, None)  # type: ignore[arg-type]
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_permissions_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        target = atomic_write(tmp_path / "job.sbatch", "#!/bin/bash\n")
    finally:
        os.umask(previous)
    assert target.stat().st_mode & 0o777 == 0o644
