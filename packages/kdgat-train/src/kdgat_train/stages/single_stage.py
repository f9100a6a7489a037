"""One training stage end to end: run folder, data, network, Lightning fit, run.json and MLflow."""

from __future__ import annotations

import logging
import os
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lightning as L
import torch
import yaml
from kdgat_schemas import RunPaths, RunRecord
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import MLFlowLogger

from kdgat_train.config.run_settings import RunSettings
from kdgat_train.curriculum import CurriculumLogger
from kdgat_train.data_module import WindowGraphDataModule
from kdgat_train.evaluation.evaluate import evaluate_stage, flat_metrics
from kdgat_train.fusion.evaluate import evaluate_fusion
from kdgat_train.modules.autoencoder import AutoencoderModule
from kdgat_train.modules.classifier import GraphClassifierModule
from kdgat_train.provenance import git_commit, versions
from kdgat_train.stages.fusion_stage import build_fusion
from kdgat_train.stages.networks import build_network
from kdgat_train.stages.teacher import (
    find_curriculum_vgae_run,
    find_fusion_runs,
    find_teacher_run,
    load_frozen_network,
)
from kdgat_train.tracking import finish_mlflow_run, log_metrics, reopen_mlflow_run, start_mlflow_run

warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")  # Lightning's own
# a local run on a machine that has Slurm: Lightning suggests srun, but local runs are meant to be local
warnings.filterwarnings("ignore", message=r"The `srun` command is available on your system but is not used")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_config(settings: RunSettings, run_dir: Path) -> Path:
    """The resolved config as ``config.yaml`` (atomically); replay reads it back."""
    target = run_dir / "config.yaml"
    temporary = run_dir / ".config.yaml.tmp"
    temporary.write_text(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False))
    os.replace(temporary, target)
    return target


def _module(settings: RunSettings, net, datamodule: WindowGraphDataModule) -> L.LightningModule:
    t, kd = settings.training_config, settings.distillation_config
    teacher = None
    if kd.mode == "standard":
        teacher_run = find_teacher_run(settings)  # checked before the run folder too, so a miss leaves nothing
        logging.getLogger(__name__).info("knowledge distillation from teacher run %s", teacher_run)
        teacher = load_frozen_network(teacher_run, datamodule.num_ids, datamodule.feature_dims)
    if settings.name.model == "vgae":
        return AutoencoderModule(net, t.learning_rate, t.weight_decay, t.vgae_id_weight, t.vgae_neighbourhood_weight,
                                 t.vgae_kl_weight, teacher, kd.latent_weight, kd.reconstruction_weight)
    return GraphClassifierModule(net, t.learning_rate, t.weight_decay, t.loss, datamodule.class_counts(), t.focal_gamma,
                                 teacher, kd.temperature, kd.alpha)


class FirstStepTimer(Callback):
    """Remembers the wall-clock time of the first training step (for run.json timings)."""

    def __init__(self) -> None:
        self.first_step_at: float | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.first_step_at is None:
            self.first_step_at = time.time()


@dataclass
class Stage:
    """Everything one stage trains with, built from the settings (and inspectable before fitting)."""

    datamodule: WindowGraphDataModule
    module: L.LightningModule
    trainer: L.Trainer


def build_stage(settings: RunSettings, run_dir: Path, logger=None) -> Stage:
    """Data, network, LightningModule and Trainer of ``settings``; every config field lands here."""
    L.seed_everything(settings.training_config.seed, workers=True)
    if settings.name.model == "dqn":
        datamodule, module = build_fusion(settings)
        return Stage(datamodule, module, _trainer(settings, run_dir, logger if logger is not None else False))
    datamodule = WindowGraphDataModule(settings.dataset_config, settings.training_config,
                                       normals_only=settings.name.mode == "normals_only",
                                       epochs=settings.training_config.epochs)
    if settings.name.mode == "curriculum":
        vgae_run = find_curriculum_vgae_run(settings)
        logging.getLogger(__name__).info("curriculum difficulty from VGAE run %s", vgae_run)
        datamodule.difficulty_vgae = load_frozen_network(vgae_run, datamodule.num_ids, datamodule.feature_dims)
    module = _module(settings, build_network(settings, datamodule.num_ids, datamodule.feature_dims), datamodule)
    return Stage(datamodule, module, _trainer(settings, run_dir, logger if logger is not None else False))


def run_stage(settings: RunSettings) -> Path:
    """Train one stage; returns its run folder. The run is COMPLETED, FAILED or KILLED afterwards."""
    started, wall_start = time.perf_counter(), time.time()
    name = settings.name
    paths = RunPaths(settings.runs_root)
    if _is_ddp_worker(settings):
        return _run_as_ddp_worker(settings)
    if settings.distillation_config.mode == "standard":
        find_teacher_run(settings)  # fail before allocating a run folder when the teacher is missing
    if settings.name.mode == "curriculum":
        find_curriculum_vgae_run(settings)
    if settings.name.model == "dqn":
        find_fusion_runs(settings)
    run_dir = Path(settings.resume or settings.run_dir or _requeued_run(paths, name) or paths.allocate_run_dir(name))
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    previous = RunRecord.read(run_dir) if (run_dir / "run.json").is_file() else None
    write_config(settings, run_dir)
    run_name = f"{name.variant}_run{RunPaths.run_number(run_dir):03d}"
    if previous is not None and previous.mlflow_run_id:  # resumed or requeued: the same MLflow run continues
        uri, run_id = paths.mlflow_uri, previous.mlflow_run_id
        reopen_mlflow_run(uri, run_id)
    else:
        uri, run_id = start_mlflow_run(paths, name, run_name, settings.flat())
    record = RunRecord(
        name=name.format(), run_dir=str(run_dir), seed=settings.training_config.seed, git_commit=git_commit(),
        versions=versions(), mlflow_run_id=run_id, slurm_job_id=os.environ.get("SLURM_JOB_ID"), started_at=_now(),
    )
    record.write(run_dir)
    stage = None
    log_handler = _log_to(run_dir / "train.log")
    try:
        logger = MLFlowLogger(experiment_name=name.experiment, run_name=run_name, tracking_uri=uri, run_id=run_id)
        stage = build_stage(settings, run_dir, logger)
        record = record.model_copy(update={"data_manifest_hash": stage.datamodule.prepare().manifest.content_hash()})
        fit_started = time.perf_counter()
        last = run_dir / "checkpoints" / "last.ckpt"
        # DDP processes that Lightning starts re-run this command: they join this run, not a new one
        os.environ.update({"KDGAT_RUN_DIR": str(run_dir), "KDGAT_MLFLOW_RUN_ID": run_id})
        stage.trainer.fit(stage.module, datamodule=stage.datamodule, ckpt_path=str(last) if last.exists() else None)
        trainer = stage.trainer
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        best = trainer.checkpoint_callback.best_model_path
        if best:  # evaluate the best weights, not the last
            stage.module.load_state_dict(torch.load(best, map_location="cpu", weights_only=False)["state_dict"], strict=True)
        if name.model == "dqn":
            evaluation = flat_metrics(evaluate_fusion(stage.module, stage.datamodule, run_dir, settings.training_config))
        else:
            evaluation = flat_metrics(evaluate_stage(stage.module, stage.datamodule.prepare(), name.model, run_dir))
        metrics.update(evaluation)
        log_metrics(uri, run_id, evaluation)
        timer = next(c for c in trainer.callbacks if isinstance(c, FirstStepTimer))
        process_start = float(os.environ.get("KDGAT_START_TIME", wall_start))
        timings = {"total_s": time.perf_counter() - started, "fit_s": time.perf_counter() - fit_started,
                   "epochs": float(trainer.current_epoch)}
        if timer.first_step_at is not None:
            timings["start_to_first_step_s"] = timer.first_step_at - process_start
        record = record.model_copy(update={"status": "COMPLETED", "finished_at": _now(), "metrics": metrics, "timings": timings})
        record.write(run_dir)
        finish_mlflow_run(uri, run_id, "FINISHED", [run_dir / "config.yaml", run_dir / "run.json", run_dir / "metrics.json",
                                                    run_dir / "evaluation.png", run_dir / "comparators.json", *([Path(best)] if best else [])])
        return run_dir
    except BaseException as error:
        # Lightning turns Ctrl-C into SystemExit(1) after a graceful shutdown; it marks the trainer interrupted
        interrupted = isinstance(error, SystemExit) and stage is not None and stage.trainer.interrupted
        status = "KILLED" if isinstance(error, KeyboardInterrupt) or interrupted else "FAILED"
        record.model_copy(update={"status": status, "finished_at": _now(), "error": f"{type(error).__name__}: {error}"}).write(run_dir)
        finish_mlflow_run(uri, run_id, status)
        raise
    finally:
        for logger_ in _LOGGERS:
            logging.getLogger(logger_).removeHandler(log_handler)
        log_handler.close()


# Lightning's loggers stop propagating to the root logger when it is imported before logging is set up
_LOGGERS = ("", "lightning.pytorch", "lightning.fabric")


def _log_to(path: Path) -> logging.Handler:
    """Copy the Python log (Lightning, kdgat) of this stage into ``train.log`` of the run folder."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in _LOGGERS:
        logger_ = logging.getLogger(name)
        if name == "" or not logger_.propagate:
            logger_.addHandler(handler)
        if logger_.getEffectiveLevel() > logging.INFO:
            logger_.setLevel(logging.INFO)
    return handler


def _is_ddp_worker(settings: RunSettings) -> bool:
    """A non-zero rank of a DDP run whose rank 0 sets the run up: started by Lightning (LOCAL_RANK > 0,
    rank 0 exported KDGAT_RUN_DIR) or by ``srun`` (SLURM_PROCID > 0 of several tasks, run folder allocated
    before the job by kdgat-cluster)."""
    if int(os.environ.get("LOCAL_RANK", "0")) > 0 and "KDGAT_RUN_DIR" in os.environ:
        return True
    return int(os.environ.get("SLURM_NTASKS", "1")) > 1 and int(os.environ.get("SLURM_PROCID", "0")) > 0 \
        and settings.run_dir is not None


def _wait_for_rank_zero(run_dir: Path, timeout_s: float = 900.0) -> str:
    """The MLflow run id rank 0 records in ``run_dir/run.json`` once it has set the run up."""
    deadline = time.monotonic() + timeout_s
    job = os.environ.get("SLURM_JOB_ID")
    while time.monotonic() < deadline:
        if (run_dir / "run.json").is_file():
            record = RunRecord.read(run_dir)
            if record.mlflow_run_id and record.status == "RUNNING" and (job is None or record.slurm_job_id == job):
                return record.mlflow_run_id
        time.sleep(0.5)
    raise TimeoutError(f"rank 0 did not set up {run_dir} within {timeout_s:.0f} s")


def _run_as_ddp_worker(settings: RunSettings) -> Path:
    """Train as one more DDP rank of rank 0's run: same folder and MLflow run, no records written."""
    if "KDGAT_RUN_DIR" in os.environ and int(os.environ.get("LOCAL_RANK", "0")) > 0:
        run_dir, run_id = Path(os.environ["KDGAT_RUN_DIR"]), os.environ["KDGAT_MLFLOW_RUN_ID"]
    else:
        run_dir = Path(settings.run_dir)
        run_id = _wait_for_rank_zero(run_dir)
    logger = MLFlowLogger(experiment_name=settings.name.experiment, tracking_uri=RunPaths(settings.runs_root).mlflow_uri,
                          run_id=run_id)
    stage = build_stage(settings, run_dir, logger)
    last = run_dir / "checkpoints" / "last.ckpt"
    stage.trainer.fit(stage.module, datamodule=stage.datamodule, ckpt_path=str(last) if last.exists() else None)
    return run_dir


def _requeued_run(paths: RunPaths, name) -> Path | None:
    """The run folder of this Slurm job when Slurm relaunched it (requeue): training resumes there."""
    job = os.environ.get("SLURM_JOB_ID")
    if not job or int(os.environ.get("SLURM_RESTART_COUNT", "0")) == 0:
        return None
    for run_dir in reversed(paths.existing_runs(name)):
        if (run_dir / "run.json").is_file() and RunRecord.read(run_dir).slurm_job_id == job:
            return run_dir
    return None


def _trainer(settings: RunSettings, run_dir: Path, logger) -> L.Trainer:
    t, device = settings.training_config, settings.device
    if settings.name.model == "dqn":  # the agent updates itself (manual optimisation) on one device
        device = device.model_copy(update={"devices": 1, "num_nodes": 1})
    callbacks = [ModelCheckpoint(dirpath=run_dir / "checkpoints", filename="best", monitor="val/loss", save_last=True),
                 FirstStepTimer(), CurriculumLogger()]
    if t.patience:
        callbacks.append(EarlyStopping(monitor="val/loss", patience=t.patience))
    return L.Trainer(
        max_epochs=t.epochs, accelerator=device.accelerator, devices=device.devices, num_nodes=device.num_nodes,
        precision=device.precision, strategy="ddp" if device.devices * device.num_nodes > 1 else "auto",
        deterministic=True if device.accelerator == "cpu" else "warn",
        gradient_clip_val=(t.gradient_clip or None) if settings.name.model != "dqn" else None,
        callbacks=callbacks, logger=logger, default_root_dir=run_dir, log_every_n_steps=1, enable_model_summary=False,
    )


__all__ = ["run_stage"]
