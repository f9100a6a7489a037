"""The Hydra task: validate the composed config, then (and only then) import torch and train."""

from __future__ import annotations

import sys

from kdgat_schemas import RunPaths
from omegaconf import DictConfig, OmegaConf
from pydantic import ValidationError

from kdgat_train import tracking
from kdgat_train.config.field_use import UnusedFieldError
from kdgat_train.config.run_settings import RunSettings, _drop_targets
from kdgat_train.known_warnings import quiet_known_warnings
from kdgat_train.pipeline.settings import PipelineSettings
from kdgat_train.tracked_run import is_ddp_worker
from kdgat_train.tracking_service import start_tracking_service


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
    if settings.tracking == "mlflow" and not is_ddp_worker(settings.run_dir):  # rank 0 tracks for a DDP run
        service = start_tracking_service()  # MLflow's import runs in a helper beside torch's, below
        if service is not None:  # and the database and experiment are readied there meanwhile
            service.send(tracking.prepare_experiment, RunPaths(settings.runs_root), settings.name.experiment)
    with quiet_known_warnings():  # torch_geometric's import-time torch.jit.script deprecation
        from kdgat_train.training_job import run_job  # torch, Lightning and PyG: after the config is valid

    return run_job(settings)
