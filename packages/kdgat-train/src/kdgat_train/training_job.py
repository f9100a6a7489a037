"""Training one validated job: a stage, or a pipeline of them, with the errors a user can act on
answered in one line (the heavy half of the Hydra task; `kdgat_train.task` validates first)."""

from __future__ import annotations

import errno
import signal
import sys

from kdgat_data.cache import DatasetNotFoundError, check_dataset_present
from kdgat_data.catalog import CatalogError, resolve_dataset
from kdgat_data.readers.errors import DataFormatError
from kdgat_schemas import RunRecord
from lightning.pytorch.utilities.exceptions import SIGTERMException

from kdgat_train.atomic_checkpoint_io import ResumeError
from kdgat_train.disk_space import NoSpaceError
from kdgat_train.pipeline.runner import run_pipeline
from kdgat_train.pipeline.settings import PipelineSettings
from kdgat_train.plain_text import plain_text
from kdgat_train.quiet_console import quiet_console
from kdgat_train.stages.single_stage import run_stage
from kdgat_train.stages.upstream_runs import TeacherError
from kdgat_train.tracked_run import NotARunFolderError, is_ddp_worker
from kdgat_train.tracking_database import TrackingDatabaseError

HEADLINE = ("f1", "fpr", "auroc")


def run_summary(run_dir) -> str:
    """The lines a finished stage ends with: its folder, status and headline metrics per split."""
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


def run_job(settings) -> str | None:
    """Train ``settings`` (`RunSettings` or `PipelineSettings`); the run folder (None: a pipeline.only stage
    its pipeline leaves out). Exits with one line on a missing dataset, teacher or disk space."""
    try:
        check_dataset_present(resolve_dataset(settings.dataset_config.name))  # before any run folder exists
        if isinstance(settings, PipelineSettings):
            folder = run_pipeline(settings)
            return None if folder is None else str(folder)  # None: a pipeline.only stage left out by the plan
        with quiet_console(chatty=True):  # Lightning's litlogger tip on every Trainer
            run_dir = run_stage(settings)
        if not is_ddp_worker(settings.run_dir):  # rank 0 speaks for a DDP run
            print(run_summary(run_dir))
        return str(run_dir)
    except (TeacherError, DatasetNotFoundError, CatalogError, NotARunFolderError, ResumeError, DataFormatError,
            NoSpaceError, TrackingDatabaseError) as error:
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
        if isinstance(stop, SIGTERMException):  # a SystemExit(None): the shell and Slurm would see success
            print("kdgat-train: stopped by SIGTERM; the run is recorded KILLED", file=sys.stderr)
            sys.exit(128 + signal.SIGTERM)
        raise
