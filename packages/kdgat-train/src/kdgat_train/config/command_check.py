"""Check ``kdgat-train`` command lines without running them: compose each with Hydra and validate it
like a run would, torch-free. kdgat-cluster calls this (``kdgat-runs check-jobs``) on the login
node before it writes or submits anything, so a misspelt key or a wrong type is an error at once,
not after the queue wait."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hydra import compose, initialize
from hydra.errors import HydraException
from kdgat_data.cache import DatasetNotFoundError, check_dataset_present
from kdgat_data.catalog import CatalogError, resolve_dataset
from omegaconf.errors import OmegaConfBaseException

from kdgat_train.config.renamed_fields import RenamedFieldError, check_renamed_overrides
from kdgat_train.config.store import PRIMARY, register
from kdgat_train.runs_root_check import RunsRootError, check_runs_root_override
from kdgat_train.task import settings_from


@dataclass
class CommandCheck:
    """The verdict on one command: ``error`` (None when it is valid) and warnings that do not stop it."""

    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    left_out: str | None = None  # a pipeline stage job (pipeline.only) its pipeline would leave out, and why


def check_commands(project_root: Path, commands: list[list[str]],
                   left_out: Callable[[object], str | None] | None = None) -> list[CommandCheck]:
    """One `CommandCheck` per command (its overrides, without the leading ``kdgat-train``);
    ``left_out(settings)`` says why a valid command's job would be left out (None: it runs)."""
    register(project_root)
    results = []
    with initialize(version_base="1.3", config_path=None):
        for command in commands:
            overrides = [argument for argument in command if argument != "kdgat-train"]
            try:
                check_runs_root_override(overrides)
                check_renamed_overrides(overrides)
            except (RunsRootError, RenamedFieldError) as error:
                results.append(CommandCheck(error=str(error)))
                continue
            try:
                settings = settings_from(compose(config_name=PRIMARY, overrides=overrides))
            except (HydraException, OmegaConfBaseException) as error:
                results.append(CommandCheck(error=_first_lines(error)))
                continue
            except SystemExit as stop:  # settings_from's one message per bad field
                results.append(CommandCheck(error=str(stop.code).removeprefix("kdgat-train: ")))
                continue
            warnings = _dataset_warnings(settings)
            reason = left_out(settings) if left_out is not None and not warnings else None  # its data is here
            results.append(CommandCheck(warnings=warnings, left_out=reason))
    return results


def _first_lines(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines[:3]) or type(error).__name__


def _dataset_warnings(settings) -> list[str]:
    try:
        check_dataset_present(resolve_dataset(settings.dataset_config.name))
    except (DatasetNotFoundError, CatalogError) as error:
        return [f"{error} (fine if the data lives only on the cluster)"]
    return []
