"""Code frozen at submission: a job runs the code and configs as they were when it was submitted.

`take_snapshot` places the committed tree of the project's git checkout (``git archive HEAD``; with
``allow_dirty`` plus the uncommitted diff and untracked files) in
``<runs_root>/.cluster/snapshots/<hash>/``, once per distinct content (the hash covers the commit
and the diff), and writes ``snapshot.json`` (commit, dirty, hash). `sync_environment` then gives the snapshot its
own virtual environment, ``<snapshot>/.venv``, synced once from the snapshot's committed ``uv.lock``
(``uv sync --frozen``, offline first: uv hard-links what its cache holds, so this takes seconds and
downloads nothing the cache has); the workspace packages in it are the snapshot's sources. A job
script activates that environment and reads ``configs/`` from the snapshot (``KDGAT_CONFIG_ROOT``),
while data and the run tree stay those of the project root. A snapshot without a ``uv.lock`` (or a
profile with ``snapshot_environment = "profile"``) runs with the profile's environment and the
snapshot's package sources first on ``PYTHONPATH``. An edit, checkout, pull or ``uv add`` after
``submit`` reaches no queued job.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kdgat_schemas import atomic_write

SNAPSHOTS = Path(".cluster") / "snapshots"
SNAPSHOT_FILE = "snapshot.json"
ENVIRONMENT_FILE = "environment.json"  # written once the snapshot's .venv is synced


class SnapshotError(RuntimeError):
    """The code cannot be frozen (not a git checkout, uncommitted changes, a lock that differs)."""


@dataclass(frozen=True)
class CodeSnapshot:
    path: Path
    commit: str
    dirty: bool
    content_hash: str
    new: bool = False  # built by this call (not reused)

    def discard(self, runs_root: Path) -> None:
        """Remove a snapshot this submission made when nothing was submitted, and the folders it
        created (only those left empty)."""
        if not self.new:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        for folder in (self.path.parent, self.path.parent.parent, runs_root):
            try:
                folder.rmdir()
            except OSError:  # not empty (or gone): keep it
                break

    def python_path(self) -> list[str]:
        """The snapshot's package sources, in the order they go on PYTHONPATH."""
        return [str(source) for source in sorted((self.path / "packages").glob("*/src"))]

    @property
    def venv(self) -> Path | None:
        """The snapshot's own synced environment (`sync_environment`), or None."""
        return self.path / ".venv" if (self.path / ENVIRONMENT_FILE).is_file() else None

    def environment(self) -> dict[str, str]:
        """What a job exports to run this snapshot: its configs, and its package sources on PYTHONPATH
        unless its own environment (which installs them) is synced."""
        sources = [] if self.venv else self.python_path()
        return {"KDGAT_CODE_SNAPSHOT": str(self.path), "KDGAT_CODE_COMMIT": self.commit,
                "KDGAT_CONFIG_ROOT": str(self.path), **({"PYTHONPATH": ":".join(sources)} if sources else {})}


def _git(root: Path, *arguments: str, binary: bool = False):
    done = subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, timeout=120)
    if done.returncode != 0:
        raise SnapshotError(f"git {' '.join(arguments)} in {root} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout if binary else done.stdout.decode()


def _changes(root: Path) -> tuple[list[str], list[str]]:
    """(changed tracked files, untracked files not ignored)."""
    tracked = [line[3:] for line in _git(root, "status", "--porcelain", "--untracked-files=no").splitlines() if line]
    untracked = [p for p in _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0") if p]
    return tracked, untracked


def take_snapshot(project_root: Path, runs_root: Path, *, allow_dirty: bool = False) -> CodeSnapshot:
    """Freeze the code of ``project_root`` (a git checkout) under ``runs_root``; reuse an identical snapshot."""
    if shutil.which("git") is None:
        raise SnapshotError("git is not installed: kdgat-cluster freezes the committed code with git archive")
    try:
        top = Path(_git(project_root, "rev-parse", "--show-toplevel").strip())
    except SnapshotError:
        raise SnapshotError(f"{project_root} is not a git checkout: jobs run the committed code, so commit it first "
                            "(git init && git add -A && git commit)") from None
    commit = _git(top, "rev-parse", "HEAD").strip()
    tracked, untracked = _changes(top)
    if (tracked or untracked) and not allow_dirty:
        shown = ", ".join([*tracked, *untracked][:8]) + (" ..." if len(tracked) + len(untracked) > 8 else "")
        raise SnapshotError(f"uncommitted changes in {top} ({shown}): commit them, or submit with --allow-dirty "
                            "(the diff and untracked files go into the job's code snapshot)")
    diff = _git(top, "diff", "HEAD", "--binary", binary=True) if tracked else b""
    digest = hashlib.sha256(commit.encode() + b"\0" + diff)
    for relative in sorted(untracked):
        digest.update(relative.encode() + b"\0" + (top / relative).read_bytes())
    content_hash = digest.hexdigest()[:16]
    target = runs_root / SNAPSHOTS / content_hash
    new = not (target / SNAPSHOT_FILE).is_file()
    if new:
        _build(top, target, commit, diff, untracked, content_hash)
    return CodeSnapshot(target, commit, bool(tracked or untracked), content_hash, new)


def _build(top: Path, target: Path, commit: str, diff: bytes, untracked: list[str], content_hash: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{content_hash}.", dir=target.parent))
    try:
        archive = staging / ".archive.tar"
        archive.write_bytes(_git(top, "archive", "--format=tar", commit, binary=True))
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        archive.unlink()
        if diff:
            # outside any repository (the snapshot may lie inside the checkout): a plain patch of the folder
            done = subprocess.run(["git", "apply", "--whitespace=nowarn", "-"], input=diff, cwd=staging,
                                  capture_output=True, timeout=120,
                                  env={**os.environ, "GIT_CEILING_DIRECTORIES": str(staging.parent)})
            if done.returncode != 0:
                raise SnapshotError(f"cannot apply the uncommitted diff to the snapshot: {done.stderr.decode().strip()}")
        for relative in untracked:
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(top / relative, staging / relative)
        atomic_write(staging / SNAPSHOT_FILE, json.dumps({"commit": commit, "dirty": bool(diff or untracked),
                                                          "hash": content_hash, "source": str(top)}, indent=2) + "\n")
        try:
            os.replace(staging, target)
        except OSError:  # another submission made the same snapshot first
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _uv() -> str | None:
    """The uv binary: the one running us (``uv run`` sets ``UV``), else on PATH."""
    given = os.environ.get("UV")
    return given if given and Path(given).is_file() else shutil.which("uv")


def sync_environment(snapshot: CodeSnapshot, say: Callable[[str], None] = print) -> Path | None:
    """Sync ``<snapshot>/.venv`` from the snapshot's ``uv.lock`` (once per snapshot; concurrent
    submissions wait on a lock file); None when the snapshot has no ``uv.lock``.

    ``uv sync --frozen --all-packages --no-dev`` installs exactly the committed lock, offline first
    (from uv's cache, hard-linked); only when the cache lacks a package does it retry online. Raises
    `SnapshotError` when uv is missing or the sync fails; nothing half-synced is used.
    """
    if not (snapshot.path / "uv.lock").is_file() or not (snapshot.path / "pyproject.toml").is_file():
        return None
    if snapshot.venv:
        return snapshot.venv
    uv = _uv()
    if uv is None:
        raise SnapshotError(f"cannot sync the environment of {snapshot.path}: uv is not installed here; install uv, "
                            'or set snapshot_environment = "profile" in the cluster profile to run jobs in its venv')
    venv = snapshot.path / ".venv"
    environment = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "UV_FROZEN", "UV_NO_SYNC")}
    environment["UV_PROJECT_ENVIRONMENT"] = str(venv)
    with open(snapshot.path / ".venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another submission of the same snapshot syncs it first
        if snapshot.venv:
            return snapshot.venv
        started = time.monotonic()
        command = [uv, "sync", "--frozen", "--all-packages", "--no-dev", "--quiet"]
        done = subprocess.run([*command, "--offline"], cwd=snapshot.path, env=environment, capture_output=True,
                              text=True, timeout=1800)
        online = done.returncode != 0
        if online:
            say("uv's cache lacks part of the lock: syncing the snapshot's environment online")
            done = subprocess.run(command, cwd=snapshot.path, env=environment, capture_output=True, text=True,
                                  timeout=3600)
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise SnapshotError(f"uv sync --frozen in {snapshot.path} failed (uv.lock of commit {snapshot.commit[:12]}): "
                                f"{done.stderr.strip()[-2000:]}")
        atomic_write(snapshot.path / ENVIRONMENT_FILE, json.dumps(
            {"venv": str(venv), "lock_sha256": hashlib.sha256((snapshot.path / "uv.lock").read_bytes()).hexdigest(),
             "online": online, "seconds": round(time.monotonic() - started, 1)}, indent=2) + "\n")
    return venv
