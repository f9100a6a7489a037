"""The Hydra task: validate the composed config, then (and only then) import torch and train."""

from __future__ import annotations

import errno
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


HEADLINE = ("f1", "fpr", "auroc")


def run_summary(run_dir) -> str:
    """The lines a finished stage ends with: its folder, status and headline metrics per split."""
    from kdgat_schemas import RunRecord

    record = RunRecord.read(run_dir)
    splits = sorted({key.rsplit("/", 1)[0] for key in record.metrics if key.rsplit("/", 1)[-1] in HEADLINE
                     and (key.startswith("val/") or key.startswith("test/"))}, key=lambda s: (s != "val", s))
    lines = [f"{record.name}: {record.status} -> {run_dir}"]
    for split in splits:
        values = "  ".join(f"{m} {record.metrics[f'{split}/{m}']:.3f}" for m in HEADLINE if f"{split}/{m}" in record.metrics)
        lines.append(f"  {split:<32} {values}")
    if "stopped" in record.tags:
        lines.append(f"  training: {record.tags['stopped']}")
    if "learned_nothing" in record.tags:
        lines.append(f"  warning: {record.tags['learned_nothing']}")
    return "\n".join(lines)


def _is_ddp_rank(settings) -> bool:
    """A DDP rank other than 0 (it joins rank 0's run and tracks nothing)."""
    from kdgat_train.tracked_run import is_ddp_worker

    return is_ddp_worker(settings.run_dir)


def train_task(zen_cfg: DictConfig) -> str:
    """Entry point of every Hydra job (single run or one job of a sweep); returns the run folder."""
    settings = settings_from(zen_cfg)
    if settings.tracking == "mlflow" and not _is_ddp_rank(settings):
        from kdgat_schemas import RunPaths

        from kdgat_train.tracking_service import start_tracking_service

        service = start_tracking_service()  # MLflow's import runs in a helper beside torch's, below
        if service is not None:  # and the database and experiment are readied there meanwhile
            service.send("prepare_experiment", RunPaths(settings.runs_root), settings.name.experiment)
    from kdgat_data.cache import DatasetNotFoundError, check_dataset_present
    from kdgat_data.catalog import CatalogError, resolve_dataset
    from kdgat_data.readers.errors import DataFormatError

    from kdgat_train.known_warnings import quiet_known_warnings
    from kdgat_train.quiet_console import quiet_console

    with quiet_known_warnings():  # torch_geometric's import-time torch.jit.script deprecation
        from kdgat_train.stages.single_stage import run_stage
    from kdgat_train.atomic_checkpoint_io import ResumeError
    from kdgat_train.disk_space import NoSpaceError
    from kdgat_train.stages.upstream_runs import TeacherError
    from kdgat_train.tracked_run import NotARunFolderError, is_ddp_worker
    from kdgat_train.tracking_database import TrackingDatabaseError

    try:
        check_dataset_present(resolve_dataset(settings.dataset_config.name))  # before any run folder exists
        if isinstance(settings, PipelineSettings):
            from kdgat_train.pipeline.runner import run_pipeline

            folder = run_pipeline(settings)
            return None if folder is None else str(folder)  # None: a pipeline.only stage left out by the plan
        with quiet_console(chatty=True):  # Lightning's litlogger tip on every Trainer
            run_dir = run_stage(settings)
        if not is_ddp_worker(settings.run_dir):  # rank 0 speaks for a DDP run
            print(run_summary(run_dir))
        return str(run_dir)
    except (TeacherError, DatasetNotFoundError, CatalogError, NotARunFolderError, ResumeError, DataFormatError,
            NoSpaceError, TrackingDatabaseError) as error:
        from kdgat_train.plain_text import plain_text

        sys.exit(f"kdgat-train: {plain_text(str(error))}")
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        sys.exit(f"kdgat-train: no space left on the device writing {error.filename or 'a file'}: free some space "
                 "(or point runs_root= at a larger disk) and run again")
    except KeyboardInterrupt:
        print("kdgat-train: interrupted (Ctrl-C); the run is recorded KILLED", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)
    except SystemExit as stop:
        from lightning.pytorch.utilities.exceptions import SIGTERMException

        if isinstance(stop, SIGTERMException):  # a SystemExit(None): the shell and Slurm would see success
            print("kdgat-train: stopped by SIGTERM; the run is recorded KILLED", file=sys.stderr)
            sys.exit(128 + signal.SIGTERM)
        raise
