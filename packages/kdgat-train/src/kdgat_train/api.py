"""`train(overrides)`: the same as the ``kdgat-train`` command, in-process (tests, notebooks, replay)."""

from __future__ import annotations

from pathlib import Path

from hydra_zen import launch
from kdgat_data.catalog import find_project_root

from kdgat_train.config.renamed_fields import check_renamed_overrides
from kdgat_train.config.store import PRIMARY, register, store
from kdgat_train.runs_root_check import check_runs_root_override
from kdgat_train.task import train_task


def train(overrides: list[str] | None = None, multirun: bool = False, project_root: str | Path | None = None) -> list[Path]:
    """Run one job (or a sweep with ``multirun``) exactly as ``kdgat-train OVERRIDES`` would.

    Returns:
        The run folder of every job, in job order (none for a pipeline.only stage its pipeline leaves out).
    """
    check_runs_root_override(list(overrides or []))  # before Hydra writes its folder there
    check_renamed_overrides(list(overrides or []))
    root = Path(project_root) if project_root else find_project_root()
    if root is None:
        raise FileNotFoundError("no configs/datasets.yaml here or above; pass project_root")
    register(root)
    primary = store[None, PRIMARY]
    result = launch(primary, train_task, overrides=list(overrides or []), multirun=multirun, version_base="1.3",
                    config_name=PRIMARY)
    jobs = [job for batch in result for job in batch] if multirun else [result]
    return [Path(job.return_value) for job in jobs if job.return_value is not None]  # None: a stage left out
