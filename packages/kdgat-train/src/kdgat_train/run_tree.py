"""The project's run tree (``experimentruns/``) and the run records in it, as ``kdgat-runs`` lists them."""

from __future__ import annotations

from pathlib import Path

import click
from kdgat_data.catalog import find_project_root
from kdgat_schemas import RunRecord
from pydantic import ValidationError


def runs_root_of(root: str | None) -> Path:
    """``root`` when given, else ``experimentruns/`` of the project (of this folder when there is none)."""
    if root:
        return Path(root)
    project = find_project_root()
    return (project if project else Path.cwd()) / "experimentruns"


def records(runs_root: Path):
    """Every readable run record under ``runs_root``; a broken one is skipped with a one-line warning."""
    for run_json in sorted(runs_root.glob("**/run_*/run.json")):
        try:
            yield RunRecord.read(run_json.parent)
        except (ValidationError, ValueError, OSError) as error:  # one broken record must not hide the others
            reason = str(error).splitlines()[0][:160]
            click.echo(f"warning: skipping {run_json}: not a readable run record ({reason})", err=True)
