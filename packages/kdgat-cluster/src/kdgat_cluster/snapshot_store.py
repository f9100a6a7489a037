"""The code snapshots of a run tree: what they hold, what they cost on disk, and pruning them.

Every distinct submitted commit (or commit + diff) gets a snapshot with its own synced environment
(`code_snapshot`), about 440 MB of real disk each with a full torch environment, and nothing removes
them. `list_snapshots` says what each holds and uses; `prune_snapshots` keeps the newest N and every
snapshot a queued or running job still needs (its sbatch script exports ``KDGAT_CODE_SNAPSHOT``);
`kdgat-cluster status` adds a line once they pass `SNAPSHOTS_WARN_BYTES`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from kdgat_cluster.code_snapshot import SNAPSHOT_FILE, SNAPSHOTS
from kdgat_cluster.records import JobRecord

SNAPSHOTS_WARN_BYTES = 5 * 1024**3  # `status` says so past 5 GiB (about a dozen snapshots with environments)
PRUNING = ".pruning-"  # a snapshot being removed: renamed first, so no job starts in half of it
_SNAPSHOT_LINE = re.compile(r"^export KDGAT_CODE_SNAPSHOT=(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class SnapshotInfo:
    """One snapshot folder: its content hash, commit, whether it holds uncommitted changes, when it was
    made (the mtime of its snapshot.json) and the disk it takes (each hard-linked file counted once)."""

    path: Path
    commit: str
    dirty: bool
    created: float
    size_bytes: int

    @property
    def content_hash(self) -> str:
        """The hash the snapshot folder is named by (commit and uncommitted changes)."""
        return self.path.name


def disk_bytes(folder: Path) -> int:
    """Allocated bytes under ``folder`` (``du``'s figure: blocks, hard links once, symlinks not followed)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            try:
                stat = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if (stat.st_dev, stat.st_ino) in seen:
                continue
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_blocks * 512
    return total


def list_snapshots(runs_root: Path) -> list[SnapshotInfo]:
    """Every complete snapshot under ``runs_root``, oldest first (a staging folder being built is not one)."""
    folder = runs_root / SNAPSHOTS
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        marker = path / SNAPSHOT_FILE
        if path.name.startswith(".") or not marker.is_file():
            continue
        try:
            saved = json.loads(marker.read_text())
        except ValueError:
            saved = {}
        found.append(SnapshotInfo(path=path, commit=str(saved.get("commit", "?")),
                                  dirty=bool(saved.get("dirty")), created=marker.stat().st_mtime,
                                  size_bytes=disk_bytes(path)))
    return sorted(found, key=lambda snapshot: snapshot.created)


def snapshot_of(record: JobRecord) -> Path | None:
    """The snapshot a job runs: the ``KDGAT_CODE_SNAPSHOT`` its sbatch script exports (None: the live tree)."""
    try:
        found = _SNAPSHOT_LINE.search(Path(record.script).read_text())
    except OSError:
        return None
    return Path(shlex.split(found.group(1))[0]) if found else None


def snapshots_in_use(records: list[JobRecord], ended: set[int]) -> set[Path]:
    """Snapshots of the jobs that have not ended (``ended``: ids Slurm reports in a terminal state)."""
    return {path.resolve() for record in records if record.job_id not in ended
            if (path := snapshot_of(record)) is not None}


def prune_snapshots(snapshots: list[SnapshotInfo], keep: int, in_use: set[Path], *,
                    dry_run: bool = False) -> list[SnapshotInfo]:
    """Remove every snapshot but the ``keep`` newest and those ``in_use``; returns what was (or would be)
    removed. A snapshot is first renamed out of the way, so no job ever starts in a half-deleted one."""
    if keep < 0:
        raise ValueError(f"--keep must be 0 or more, got {keep}")
    newest = {snapshot.path for snapshot in snapshots[len(snapshots) - keep:]} if keep else set()
    removed = [s for s in snapshots if s.path not in newest and s.path.resolve() not in in_use]
    for snapshot in [] if dry_run else removed:
        doomed = snapshot.path.with_name(f"{PRUNING}{snapshot.path.name}")
        os.replace(snapshot.path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
    if not dry_run and snapshots:  # what an interrupted prune left half deleted
        for leftover in snapshots[0].path.parent.glob(f"{PRUNING}*"):
            shutil.rmtree(leftover, ignore_errors=True)
    return removed


def size_line(snapshots: list[SnapshotInfo], limit: int = SNAPSHOTS_WARN_BYTES) -> str | None:
    """The line `status` prints when the snapshots take more than ``limit`` bytes (None below it)."""
    total = sum(snapshot.size_bytes for snapshot in snapshots)
    if total <= limit:
        return None
    return (f"code snapshots: {len(snapshots)} take {total / 1024**3:.1f} GiB (over {limit / 1024**3:.0f} GiB); "
            "`kdgat-cluster snapshots list` shows them, `kdgat-cluster snapshots prune --keep 3` frees the old ones "
            "(never one a queued or running job uses)")
