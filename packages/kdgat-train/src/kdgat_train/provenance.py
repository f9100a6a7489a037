"""Git commit and package versions recorded in every run.json."""

from __future__ import annotations

import os
import subprocess
import time
from importlib import metadata
from pathlib import Path

import kdgat_train

PACKAGES = ("kdgat-schemas", "kdgat-data", "kdgat-models", "kdgat-train", "torch", "torch-geometric", "lightning", "mlflow")


def git_commit() -> str | None:
    """The commit of the code that runs: a cluster job's frozen snapshot (``KDGAT_CODE_COMMIT``), else
    ``git rev-parse HEAD`` of the working folder."""
    if os.environ.get("KDGAT_CODE_COMMIT"):
        return os.environ["KDGAT_CODE_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def code_snapshot() -> str | None:
    """The frozen code snapshot this process runs (``KDGAT_CODE_SNAPSHOT``), only when the imported
    kdgat-train really comes from it: a job whose PYTHONPATH did not take effect records None."""
    snapshot = os.environ.get("KDGAT_CODE_SNAPSHOT")
    if not snapshot:
        return None
    here = Path(kdgat_train.__file__).resolve()
    return snapshot if here.is_relative_to(Path(snapshot).resolve()) else None


def versions() -> dict[str, str]:
    found = {}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


_IMPORTED_AT = time.time()


def process_started_at() -> float:
    """Wall-clock time this process started (Linux: from /proc; elsewhere: when kdgat-train was imported).

    Used for the start-to-first-step timing of run.json, without any environment variable."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        ticks_after_boot = int(fields[19])  # field 22 of stat(5), counted after the command name
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks_after_boot / os.sysconf("SC_CLK_TCK")
        return time.time() - age
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED_AT
