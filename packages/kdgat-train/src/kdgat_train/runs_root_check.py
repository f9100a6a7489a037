"""``runs_root=`` must name a run tree: a new or empty folder, or one kdgat already writes into.

Hydra writes its own output folder under ``runs_root`` before the task starts, and a run writes
``mlflow.db`` and the run tree there; ``runs_root=$HOME`` or ``runs_root=/etc`` must be refused before
anything is written, not after."""

from __future__ import annotations

from pathlib import Path

from kdgat_schemas import DOMAINS

# what a kdgat run tree holds: the MLflow store, Hydra's and the cluster's folders (and the domain trees)
RUN_TREE_ENTRIES = {"mlflow.db", "mlartifacts", ".hydra", ".cluster", ".mlflow.lock"}


class RunsRootError(ValueError):
    """``runs_root=`` names a folder that is not a run tree."""


def check_runs_root(runs_root: str | Path) -> None:
    """Refuse a ``runs_root`` that exists and holds something other than a kdgat run tree."""
    root = Path(runs_root)
    if not root.exists():
        return
    if not root.is_dir():
        raise RunsRootError(f"runs_root={runs_root}: not a folder")
    entries = {entry.name for entry in root.iterdir()}
    if entries and not entries & (RUN_TREE_ENTRIES | set(DOMAINS)):
        shown = ", ".join(sorted(entries)[:5]) + (", ..." if len(entries) > 5 else "")
        raise RunsRootError(f"runs_root={runs_root}: an existing folder that is not a kdgat run tree (it holds {shown}); "
                            "give a new or empty folder, or an existing run tree (one with mlflow.db)")


def check_runs_root_override(overrides: list[str]) -> None:
    """`check_runs_root` on the ``runs_root=`` among command-line ``overrides`` (if any)."""
    for override in overrides:
        key, _, value = override.partition("=")
        if key.lstrip("+~") == "runs_root" and value:
            check_runs_root(value)
