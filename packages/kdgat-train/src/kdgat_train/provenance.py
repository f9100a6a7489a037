"""Git commit and package versions recorded in every run.json."""

from __future__ import annotations

import subprocess
from importlib import metadata

PACKAGES = ("kdgat-schemas", "kdgat-data", "kdgat-models", "kdgat-train", "torch", "torch-geometric", "lightning", "mlflow")


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str]:
    found = {}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found
