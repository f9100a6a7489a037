"""The Hydra task: validate the composed config, then (and only then) import torch and train."""

from __future__ import annotations

import signal
import sys

from omegaconf import DictConfig, OmegaConf
from pydantic import ValidationError

from kdgat_train.config.field_use import UnusedFieldError
from kdgat_train.config.run_settings import RunSettings, _drop_targets
from kdgat_train.pipeline.settings import PipelineSettings


def _pipeline_fields(container: dict) -> dict:
    clean = _drop_targets(container)
    clean.pop("hydra", None)
    clean.pop("model_size_config", None)  # the primary config's default stage leaves one; sizes are in model_sizes
    return clean


def settings_from(config: DictConfig | dict) -> RunSettings | PipelineSettings:
    """Validate a composed config (a stage, or a pipeline); exit with one line per bad field on error."""
    container = OmegaConf.to_container(config, resolve=True) if isinstance(config, DictConfig) else config
    try:
        if str(container.get("experiment_name", "")).endswith("_pipeline"):
            return PipelineSettings.model_validate(_pipeline_fields(container))
        return RunSettings.from_config(container)
    except ValidationError as error:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})" for e in error.errors()]
        sys.exit("kdgat-train: invalid configuration:\n" + "\n".join(lines))
    except UnusedFieldError as error:
        sys.exit(f"kdgat-train: {error}")


def train_task(zen_cfg: DictConfig) -> str:
    """Entry point of every Hydra job (single run or one job of a sweep); returns the run folder."""
    settings = settings_from(zen_cfg)
    from kdgat_data.cache import DatasetNotFoundError, check_dataset_present
    from kdgat_data.catalog import CatalogError, resolve_dataset

    from kdgat_train.stages.single_stage import run_stage
    from kdgat_train.stages.upstream_runs import TeacherError
    from kdgat_train.tracked_run import NotARunFolderError

    try:
        check_dataset_present(resolve_dataset(settings.dataset_config.name))  # before any run folder exists
        if isinstance(settings, PipelineSettings):
            from kdgat_train.pipeline.runner import run_pipeline

            return str(run_pipeline(settings))
        return str(run_stage(settings))
    except (TeacherError, DatasetNotFoundError, CatalogError, NotARunFolderError) as error:
        sys.exit(f"kdgat-train: {error}")
    except SystemExit as stop:
        from lightning.pytorch.utilities.exceptions import SIGTERMException

        if isinstance(stop, SIGTERMException):  # a SystemExit(None): the shell and Slurm would see success
            print("kdgat-train: stopped by SIGTERM; the run is recorded KILLED", file=sys.stderr)
            sys.exit(128 + signal.SIGTERM)
        raise
