"""One training stage: a builder (data, network, LightningModule, Trainer) and an evaluator, run inside a
`TrackedRun` (run folder, config.yaml, MLflow, run.json)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
from kdgat_schemas import RunFolder, RunFolderError
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

from kdgat_train.atomic_checkpoint_io import AtomicCheckpointIO, resume_checkpoint
from kdgat_train.checkpoint_state import load_checkpoint_state
from kdgat_train.config.run_settings import RunSettings
from kdgat_train.curriculum import CurriculumLogger
from kdgat_train.epoch_summary_line import EpochSummaryLine, interactive
from kdgat_train.evaluation.learning_check import learned_nothing
from kdgat_train.evaluation.stage_evaluation import Evaluation, flat_metrics
from kdgat_train.families import family_of
from kdgat_train.known_warnings import quiet_known_warnings
from kdgat_train.provenance import process_started_at
from kdgat_train.run_metrics_logger import RunMetricsLogger
from kdgat_train.stages.upstream_runs import (
    check_upstream_runs,
    find_upstream_runs,
    frozen_upstream,
    with_recorded_upstream,
    with_upstream_runs,
)
from kdgat_train.thread_count import set_intra_op_threads
from kdgat_train.tracked_run import TrackedRun, is_ddp_worker
from kdgat_train.training_cost import TrainingCost
from kdgat_train.window_data_module import WindowGraphDataModule, open_cache


@dataclass
class Stage:
    """Everything one stage trains with, built from the settings (and inspectable before fitting)."""

    datamodule: WindowGraphDataModule
    module: L.LightningModule
    trainer: L.Trainer


def build_stage(settings: RunSettings, run_dir: Path, logger=None) -> Stage:
    """Data, network, LightningModule and Trainer of ``settings``; every config field lands here.
    Collaborators (a KD teacher, the curriculum's VGAE, the fused VGAE and GAT) are rebuilt from
    their own runs and handed to the constructors."""
    L.seed_everything(settings.training_config.seed, workers=True)
    threads = set_intra_op_threads(settings.device)
    logging.getLogger(__name__).info("torch intra-op threads: %d", threads)
    cache = open_cache(settings.dataset_config, settings.evaluation.min_class_windows)
    datamodule, module = family_of(settings.name).build_stage(settings, cache, frozen_upstream(settings, cache))
    return Stage(datamodule, module, _trainer(settings, run_dir, logger if logger is not None else False))


def evaluate(settings: RunSettings, stage: Stage, run_dir: Path) -> Evaluation:
    """The stage's evaluator: results of the fitted module, its threshold tags and the files it wrote."""
    return family_of(settings.name).evaluate(settings, stage.module, stage.datamodule, run_dir)


def _continued_upstream(settings: RunSettings) -> RunSettings:
    """A run that continues (``resume=``, a requeued cluster job's ``run_dir=``) keeps the upstream runs
    its run.json recorded, never whichever run is latest now."""
    continuing = settings.resume or settings.run_dir
    if continuing and RunFolder(continuing).has_record():
        try:
            return with_recorded_upstream(settings, Path(continuing))
        except RunFolderError:  # a broken record: the run's own start refuses the folder, naming it
            return settings
    return settings


def _pinned_upstream(settings: RunSettings) -> RunSettings:
    settings = _continued_upstream(settings)
    return with_upstream_runs(settings, check_upstream_runs(settings))


def run_stage(settings: RunSettings) -> Path:
    """Train and evaluate one stage; returns its run folder. The run is COMPLETED, FAILED or KILLED afterwards."""
    name = settings.name
    stage_started = time.time()
    worker = is_ddp_worker(settings.run_dir)
    if not worker:  # a missing or unreadable upstream run fails here, before any run folder exists (a missing
        # dataset already failed in the Hydra task); the runs found are pinned: built, recorded and saved as found
        settings = _pinned_upstream(settings)
    with quiet_known_warnings(), TrackedRun(name=name, settings=settings, runs_root=settings.runs_root,
                                            seed=settings.training_config.seed, run_dir=settings.resume or settings.run_dir,
                                            worker=worker, log_file=not worker) as run:
        stage = build_stage(settings, run.run_dir, RunMetricsLogger(run=run))
        run.interrupted = lambda: stage.trainer.interrupted
        folder = RunFolder(run.run_dir)
        resume_from = resume_checkpoint(folder.last_checkpoint, folder.best_checkpoint)  # a damaged last: the best
        ckpt_path = str(resume_from) if resume_from is not None else None
        if worker:  # one more DDP rank of rank 0's run: it fits and reports nothing
            stage.trainer.fit(stage.module, datamodule=stage.datamodule, ckpt_path=ckpt_path,
                              weights_only=True)
            return run.run_dir
        run.update(data_manifest_hash=stage.datamodule.prepare().manifest.content_hash(),
                   upstream_runs={field: str(folder) for field, folder in find_upstream_runs(settings).items()})
        run.hand_off_to_ddp_ranks()
        fit_started = time.perf_counter()
        try:
            stage.trainer.fit(stage.module, datamodule=stage.datamodule, ckpt_path=ckpt_path,
                              weights_only=True)
        except SystemExit as stop:
            if stage.trainer.interrupted and not isinstance(stop, SIGTERMException):
                # Lightning turns Ctrl-C into SystemExit(1) after its graceful shutdown: give it back as the
                # interrupt it was, so this run and an enclosing pipeline are KILLED and the command exits 130
                raise KeyboardInterrupt from None
            raise
        fit_s = time.perf_counter() - fit_started
        metrics = {k: float(v) for k, v in stage.trainer.callback_metrics.items()}
        checkpoint = stage.trainer.checkpoint_callback
        best = checkpoint.best_model_path
        if best:  # evaluate the best weights, not the last
            state = load_checkpoint_state(best)  # tensors only, like every checkpoint this project loads
            stage.module.load_state_dict(state, strict=True)
            if checkpoint.best_model_score is not None:
                metrics["val/loss"] = float(checkpoint.best_model_score)
        evaluation = evaluate(settings, stage, run.run_dir)
        evaluated = flat_metrics(evaluation.results)
        metrics.update(evaluated)  # the evaluated best checkpoint's val/... replace the last epoch's
        run.log_metrics(evaluated, step=stage.trainer.global_step + 1)
        run.set_tags({**evaluation.tags, **_training_verdict(stage.trainer, settings.training_config.epochs, metrics)})
        cost = next(c for c in stage.trainer.callbacks if isinstance(c, TrainingCost))
        timings = {"fit_s": fit_s, "epochs": float(stage.trainer.current_epoch), **cost.timings()}
        if cost.first_step_at is not None:
            timings["start_to_first_step_s"] = cost.first_step_at - stage_started  # this stage's own start
            timings["process_start_to_first_step_s"] = cost.first_step_at - process_started_at()  # the command's
        timings["stage_wall_s"] = time.time() - stage_started  # build, fit and evaluation: what the row cost
        run.complete(metrics=metrics, timings=timings, artifacts=[*evaluation.files, *([Path(best)] if best else [])])
    return run.run_dir


def _training_verdict(trainer: L.Trainer, max_epochs: int, metrics: dict[str, float]) -> dict[str, str]:
    """Run tags that say why training stopped (``stopped``) and, when the validation AUROC is within
    noise of chance, that the model learned nothing (``learned_nothing``)."""
    stopper = next((c for c in trainer.callbacks if isinstance(c, EarlyStopping)), None)
    if stopper is not None and stopper.stopped_epoch > 0:
        stopped = (f"early stopping after epoch {stopper.stopped_epoch + 1} of {max_epochs}: {stopper.monitor} had not "
                   f"improved for {stopper.patience} epochs")
    else:
        stopped = f"ran {trainer.current_epoch} of {max_epochs} epochs"
    verdict = {"stopped": stopped}
    if (reason := learned_nothing(metrics)) is not None:
        verdict["learned_nothing"] = reason
    return verdict


def _trainer(settings: RunSettings, run_dir: Path, logger) -> L.Trainer:
    t, device = settings.training_config, settings.device
    family_arguments = family_of(settings.name).trainer_arguments(settings)
    callbacks = [ModelCheckpoint(dirpath=RunFolder(run_dir).checkpoints, filename=RunFolder.BEST.removesuffix(".ckpt"), monitor="val/loss", save_last=True),
                 TrainingCost(), CurriculumLogger()]
    show_bar = interactive()
    if not show_bar:  # a log file: one line per epoch instead of a progress bar
        callbacks.append(EpochSummaryLine(label=settings.name.variant))
    if t.patience:
        callbacks.append(EarlyStopping(monitor="val/loss", patience=t.patience))
    return L.Trainer(
        max_epochs=t.epochs, accelerator=device.accelerator, precision=device.precision,
        strategy="ddp" if family_arguments["devices"] * family_arguments["num_nodes"] > 1 else "auto",
        deterministic=True if device.accelerator == "cpu" else "warn",
        callbacks=callbacks, logger=logger, default_root_dir=run_dir, log_every_n_steps=1, enable_model_summary=False,
        enable_progress_bar=show_bar, plugins=[AtomicCheckpointIO()], **family_arguments,
    )


__all__ = ["run_stage"]
