"""Code snapshots on disk: listed with their size, pruned to the newest N but never one a job needs,
and the `status` line once they pass the size limit."""

import json
import os
import time

import pytest
from kdgat_cluster.records import JobRecord
from kdgat_cluster.snapshot_store import (
    list_snapshots,
    prune_snapshots,
    size_line,
    snapshot_of,
    snapshots_in_use,
)


def _snapshot(runs, name: str, age_s: float, size: int = 10_000):
    folder = runs / ".cluster" / "snapshots" / name
    folder.mkdir(parents=True)
    (folder / "payload.bin").write_bytes(os.urandom(size))
    os.link(folder / "payload.bin", folder / "same-payload.bin")  # a hard link counts once, as du counts it
    marker = folder / "snapshot.json"
    marker.write_text(json.dumps({"commit": name * 4, "dirty": name == "b", "hash": name}))
    made = time.time() - age_s
    os.utime(marker, (made, made))
    return folder


def _job(tmp_path, job_id: int, snapshot) -> JobRecord:
    script = tmp_path / f"job_{job_id}.sbatch"
    script.write_text(f"#!/bin/bash\nexport KDGAT_CODE_COMMIT=abc\nexport KDGAT_CODE_SNAPSHOT='{snapshot}'\nsrun x\n")
    return JobRecord(job_id=job_id, job_name="j", config_name="c", command=[], run_dir="", script=str(script),
                     log_pattern="")


def test_snapshots_are_listed_oldest_first_with_their_disk_and_pruned_around_the_ones_in_use(tmp_path):
    runs = tmp_path / "runs"
    a, b, c = _snapshot(runs, "a", 300), _snapshot(runs, "b", 200), _snapshot(runs, "c", 100)
    (runs / ".cluster" / "snapshots" / ".c.host.123.xyz").mkdir()  # a snapshot being built: not listed
    found = list_snapshots(runs)
    assert [s.path for s in found] == [a, b, c] and [s.dirty for s in found] == [False, True, False]
    assert all(10_000 <= s.size_bytes < 20_000 for s in found)  # the hard link once
    jobs = [_job(tmp_path, 1, a), _job(tmp_path, 2, c)]
    assert snapshot_of(jobs[0]) == a
    in_use = snapshots_in_use(jobs, ended={2})  # job 2 ended: only job 1's snapshot is needed
    assert in_use == {a.resolve()}
    assert [s.path for s in prune_snapshots(found, 1, in_use, dry_run=True)] == [b] and b.is_dir()
    assert [s.path for s in prune_snapshots(found, 1, in_use)] == [b]
    assert a.is_dir() and not b.exists() and c.is_dir()
    assert not list((runs / ".cluster" / "snapshots").glob(".pruning-*"))
    assert [s.path for s in prune_snapshots(list_snapshots(runs), 0, set())] == [a, c]
    with pytest.raises(ValueError, match="--keep"):
        prune_snapshots([], -1, set())


def test_status_says_when_the_snapshots_pass_the_limit(tmp_path):
    runs = tmp_path / "runs"
    _snapshot(runs, "a", 10, size=40_000)
    found = list_snapshots(runs)
    assert size_line(found) is None  # far below 5 GiB
    line = size_line(found, limit=1000)
    assert line.startswith("code snapshots: 1 take 0.0 GiB (over 0 GiB)") and "snapshots prune --keep 3" in line
