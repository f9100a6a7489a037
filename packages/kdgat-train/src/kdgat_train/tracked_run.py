"""`TrackedRun`: the one lifecycle of every run (DESIGN.md §6), used by stages, pipelines and DDP ranks.

    folder (allocated, adopted from ``run_dir=`` / ``resume=``, or this Slurm job's after a requeue)
    -> config.yaml -> MLflow run (started, or reopened when the folder already has one)
    -> run.json RUNNING -> the body -> run.json and MLflow COMPLETED / FAILED / KILLED, timings,
    artifacts.

A stage type is then a builder (what to fit) and an evaluator (what to report); it never writes
records itself. The extra ranks of a DDP run join rank 0's folder and MLflow run as a *worker*:
they write nothing and mark nothing.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from kdgat_schemas import ExperimentName, RunFolder, RunFolderError, RunPaths, RunRecord

from kdgat_train import tracking
from kdgat_train.offline_tracking import OfflineRecorder
from kdgat_train.provenance import code_snapshot, git_commit, versions
from kdgat_train.run_liveness import this_process
from kdgat_train.tracking_service import tracking_call, tracking_send

# the documented DDP hand-off: processes Lightning starts for ranks > 0 re-run the command and read
# these to join rank 0's run; they are set only while rank 0 fits, never left behind
HANDOFF_RUN_DIR, HANDOFF_MLFLOW_RUN = "KDGAT_RUN_DIR", "KDGAT_MLFLOW_RUN_ID"

# Lightning's loggers stop propagating to the root logger when it is imported before logging is set up
_LOGGERS = ("", "lightning.pytorch", "lightning.fabric")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class NotARunFolderError(ValueError):
    """``resume=`` / ``run_dir=`` names a folder this run must not write into."""


# what may change when a run is resumed: where it runs and how long it trains
RESUMABLE_DIFFERENCES = {("device",), ("resume",), ("run_dir",), ("training_config", "epochs")}
CLUSTER_JOB_FILES = {"slurm"}  # what kdgat-cluster puts into a run folder it allocates for a job


def check_adoptable(run_dir: Path, name: ExperimentName, settings) -> None:
    """Refuse, before anything is written, to adopt ``run_dir`` for run ``name``: a folder not named
    ``run_NNN``, a non-empty folder that is not a run of ``name`` (no run.json, another experiment),
    or a run whose saved config differs from ``settings`` in more than the device or epoch budget."""
    try:
        RunPaths.run_number(run_dir)
    except ValueError as error:  # "not a run folder (expected a name like run_001)"
        raise NotARunFolderError(str(error)) from None
    if not run_dir.exists():
        return
    if not run_dir.is_dir():
        raise NotARunFolderError(f"{run_dir}: not a folder")
    folder = RunFolder(run_dir)
    record_file = folder.record_file
    if not record_file.is_file():
        others = sorted(p.name for p in run_dir.iterdir() if p.name not in CLUSTER_JOB_FILES)
        if others:
            raise NotARunFolderError(f"{run_dir}: not a run folder of {name.format()} (no run.json; it holds "
                                     f"{', '.join(others[:5])}): refusing to write into it")
        return
    try:
        record = folder.read_record()
    except RunFolderError:
        raise NotARunFolderError(f"{record_file}: not a readable run record: refusing to write into {run_dir}") from None
    if record.name != name.format():
        raise NotARunFolderError(f"{run_dir} is a run of {record.name}, not of {name.format()}")
    if folder.config_file.is_file():
        saved = folder.read_config()
        differing = sorted(".".join(key) for key in _differences(saved, settings.model_dump(mode="json"))
                           if key[:1] not in RESUMABLE_DIFFERENCES and key[:2] not in RESUMABLE_DIFFERENCES)
        if differing:
            raise NotARunFolderError(f"{run_dir}: its saved config differs from this command's in {', '.join(differing[:6])}; "
                                     "only the device and training_config.epochs may change when a run continues "
                                     "(start a new run instead)")


def _differences(saved, wanted, prefix: tuple = ()) -> list[tuple]:
    """Key paths where two nested config dicts differ."""
    if isinstance(saved, dict) and isinstance(wanted, dict):
        return [d for key in sorted(set(saved) | set(wanted), key=str)
                for d in _differences(saved.get(key), wanted.get(key), (*prefix, key))]
    return [] if saved == wanted else [prefix]


class TrackedRun:
    """Context manager around one run; ``with TrackedRun(...) as run:`` then ``run.complete(...)``.

    Args:
        name: the experiment name (stage or pipeline).
        settings: the validated settings; ``model_dump`` becomes config.yaml, ``flat()`` the MLflow params.
        runs_root: the run tree.
        seed: recorded in run.json.
        run_dir: a folder to adopt (``resume=``, ``run_dir=``); default: this Slurm job's folder after a
            requeue, else a newly allocated one.
        worker: join rank 0's run (folder and MLflow run) without writing anything.
        log_file: copy the Python log of the run into ``train.log`` of its folder.
        variant_label: first part of the MLflow run name (``{variant}_runNNN``).

    The body may call `update` (extra run.json fields), `log_metrics`, and `complete` (final metrics,
    timings, artifacts). Leaving the body normally marks the run COMPLETED; an exception marks it
    FAILED, Ctrl-C (or a graceful Lightning interrupt, see ``interrupted``) KILLED, and re-raises.
    """

    def __init__(self, *, name: ExperimentName, settings, runs_root: str | Path, seed: int,
                 run_dir: str | Path | None = None, worker: bool = False, log_file: bool = True,
                 variant_label: str | None = None) -> None:
        self.name, self.settings, self.seed, self.worker = name, settings, seed, worker
        self.paths = RunPaths(runs_root)
        self._requested_dir = Path(run_dir) if run_dir else None
        # a baseline's run is named by its method (gbdt_run001), so the baselines are told apart in MLflow's run list
        self._log_file, self._variant_label = log_file, variant_label or (name.model if name.is_baseline else name.variant)
        self.run_dir: Path | None = None
        self.uri, self.run_id = self.paths.mlflow_uri, None
        self.record: RunRecord | None = None
        self.metrics: dict[str, float] = {}
        self.timings: dict[str, float] = {}
        self.artifacts: list[Path] = []
        self.interrupted: Callable[[], bool] = lambda: False
        self._handler: logging.Handler | None = None
        self._saved_environment: dict[str, str | None] = {}
        self._started = time.perf_counter()
        self.offline = getattr(settings, "tracking", "mlflow") == "offline"  # tracking=offline: the folder only

    # --- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> TrackedRun:
        if self.worker:
            self.run_dir, self.run_id = self._join_rank_zero()
            return self
        if self._requested_dir is not None:
            check_adoptable(self._requested_dir, self.name, self.settings)  # before anything is written there
        self.run_dir = self._requested_dir or self._requeued_run() or self.paths.allocate_run_dir(self.name)
        folder = RunFolder(self.run_dir)
        folder.checkpoints.mkdir(parents=True, exist_ok=True)
        previous = folder.read_record() if folder.has_record() else None
        folder.write_config(self.settings.model_dump(mode="json"))
        # run.json (RUNNING, with this host and PID) before any slow step: a run interrupted from here on is listed
        self.record = RunRecord(
            name=self.name.format(), run_dir=str(self.run_dir), seed=self.seed, git_commit=git_commit(),
            code_snapshot=code_snapshot(), versions=versions(), mlflow_run_id=previous.mlflow_run_id if previous else None,
            slurm_job_id=os.environ.get("SLURM_JOB_ID"), started_at=_now(), **this_process(),
        )
        self.record.write(self.run_dir)
        try:
            if self.offline:
                self.recorder = OfflineRecorder(run_dir=self.run_dir)
                params = self.settings.flat()
                self.recorder.start(experiment=self.name.experiment, params=params, tags=tracking.run_tags(self.name, params, self.seed),
                                    run_name=f"{self._variant_label}_run{RunPaths.run_number(self.run_dir):03d}")
            elif previous is not None and previous.mlflow_run_id:  # resumed or requeued: the same MLflow run continues
                self.run_id = previous.mlflow_run_id
                tracking_call(tracking.reopen_mlflow_run, self.uri, self.run_id)
            else:
                run_name = f"{self._variant_label}_run{RunPaths.run_number(self.run_dir):03d}"
                self.uri, self.run_id = tracking_call(tracking.start_mlflow_run, self.paths, self.name, run_name,
                                                      self.settings.flat(), self.seed)
        except BaseException as error:
            status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
            self.update(status=status, finished_at=_now(), error=f"MLflow: {type(error).__name__}: {error}"[:2000])
            raise
        self.update(mlflow_run_id=self.run_id)
        if self._log_file:
            self._handler = _log_to(self.run_dir / "train.log")
        return self

    def __exit__(self, error_type, error, traceback) -> bool:
        self._restore_environment()
        try:
            if self.worker:
                return False
            if error is None:
                self.timings.setdefault("total_s", time.perf_counter() - self._started)
                self.update(status="COMPLETED", finished_at=_now(), metrics=self.metrics, timings=self.timings)
                artifacts = [RunFolder(self.run_dir).config_file, RunFolder(self.run_dir).record_file, *self.artifacts]
                if self.offline:
                    self.recorder.end("COMPLETED", artifacts)
                else:
                    self._tracking("mark the run finished", lambda: tracking_call(tracking.finish_mlflow_run, self.uri, self.run_id,
                                                                                                  "FINISHED", artifacts))
            else:
                # Lightning turns Ctrl-C into SystemExit(1) after a graceful shutdown; it marks the trainer interrupted
                killed = isinstance(error, KeyboardInterrupt) or (isinstance(error, SystemExit) and self.interrupted())
                status = "KILLED" if killed else "FAILED"
                self.update(status=status, finished_at=_now(), error=f"{type(error).__name__}: {error}")
                if self.offline:
                    self.recorder.end(status, [RunFolder(self.run_dir).config_file, RunFolder(self.run_dir).record_file])
                else:
                    self._tracking("mark the run " + status, lambda: tracking_call(tracking.finish_mlflow_run, self.uri, self.run_id, status))
        finally:
            if self._handler is not None:
                for logger_name in _LOGGERS:
                    logging.getLogger(logger_name).removeHandler(self._handler)
                self._handler.close()
        return False

    # --- what the body reports ----------------------------------------------------------------
    def update(self, **fields) -> None:
        """Change fields of run.json (rewritten at once)."""
        if self.worker:
            return
        self.record = self.record.model_copy(update=fields)
        self.record.write(self.run_dir)

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        """Final (non-epoch) metrics into MLflow, at ``step``."""
        if self.worker:
            return
        if self.offline:
            self.recorder.log_metrics(metrics, step)
        else:
            self._tracking("log the final metrics", lambda: tracking_call(tracking.log_metrics, self.uri, self.run_id, metrics, step))

    def log_epoch_metrics(self, metrics: dict[str, float], step: int) -> None:
        """One epoch's metrics (what `RunMetricsLogger` gets from Lightning), without waiting for MLflow."""
        if self.worker:
            return
        if self.offline:
            self.recorder.log_metrics(metrics, step)
        else:
            tracking_send(tracking.log_metrics, self.uri, self.run_id, metrics, step, timestamp_ms=int(time.time() * 1000))

    def set_tags(self, tags: dict[str, str]) -> None:
        """Tags of the run, in run.json and MLflow (the threshold rule applied, for example)."""
        if self.worker or not tags:
            return
        self.update(tags={**self.record.tags, **tags})
        if self.offline:
            self.recorder.set_tags(tags)
        else:
            self._tracking("set tags", lambda: tracking_call(tracking.set_tags, self.uri, self.run_id, tags))

    def _tracking(self, what: str, call: Callable[[], None]) -> None:
        """A call to MLflow once the run's own results exist: run.json is the record, so a tracking failure
        (after the bounded retry) is logged and tagged ``tracking: incomplete``, never a change of status."""
        try:
            call()
        except Exception as error:  # noqa: BLE001 - whatever MLflow raises, the run's outcome stands
            logging.getLogger(__name__).warning(
                "MLflow could not %s for %s (%s: %s); run.json holds the results", what, self.run_dir,
                type(error).__name__, str(error).splitlines()[0][:300] if str(error) else "")
            self.update(tags={**self.record.tags, "tracking": "incomplete"})

    def complete(self, *, metrics: dict[str, float] | None = None, timings: dict[str, float] | None = None,
                 artifacts: Iterable[Path] = ()) -> None:
        """What run.json and MLflow get when the body ends normally (status COMPLETED on exit)."""
        self.metrics.update(metrics or {})
        self.timings.update(timings or {})
        self.artifacts.extend(Path(path) for path in artifacts)

    # --- DDP ------------------------------------------------------------------------------------
    def hand_off_to_ddp_ranks(self) -> None:
        """Export the run folder and MLflow run for the rank processes Lightning starts during fit;
        restored when the run ends, so later runs of this process never see them."""
        for key, value in ((HANDOFF_RUN_DIR, str(self.run_dir)), (HANDOFF_MLFLOW_RUN, self.run_id or "")):
            self._saved_environment.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_environment(self) -> None:
        for key, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environment.clear()

    def _join_rank_zero(self) -> tuple[Path, str | None]:
        if HANDOFF_RUN_DIR in os.environ and int(os.environ.get("LOCAL_RANK", "0")) > 0:
            return Path(os.environ[HANDOFF_RUN_DIR]), os.environ[HANDOFF_MLFLOW_RUN] or None
        if self._requested_dir is None:
            raise RuntimeError("a DDP worker rank needs rank 0's run folder (run_dir=) or the Lightning hand-off")
        return self._requested_dir, wait_for_rank_zero(self._requested_dir, offline=self.offline)

    def _requeued_run(self) -> Path | None:
        """The run folder of this Slurm job when Slurm relaunched it (requeue): training resumes there."""
        job = os.environ.get("SLURM_JOB_ID")
        if not job or int(os.environ.get("SLURM_RESTART_COUNT", "0")) == 0:
            return None
        for run_dir in reversed(self.paths.existing_runs(self.name)):
            if RunFolder(run_dir).has_record() and RunFolder(run_dir).read_record().slurm_job_id == job:
                return run_dir
        return None


def is_ddp_worker(run_dir: str | None) -> bool:
    """A non-zero rank of a DDP run whose rank 0 sets the run up: started by Lightning (LOCAL_RANK > 0
    with rank 0's hand-off) or by ``srun`` (SLURM_PROCID > 0 of several tasks, run folder allocated
    before the job by kdgat-cluster)."""
    if int(os.environ.get("LOCAL_RANK", "0")) > 0 and HANDOFF_RUN_DIR in os.environ:
        return True
    return int(os.environ.get("SLURM_NTASKS", "1")) > 1 and int(os.environ.get("SLURM_PROCID", "0")) > 0 \
        and run_dir is not None


def wait_for_rank_zero(run_dir: Path, timeout_s: float = 900.0, *, offline: bool = False) -> str | None:
    """The MLflow run id rank 0 records in ``run_dir/run.json`` once it has set the run up (None offline)."""
    deadline = time.monotonic() + timeout_s
    job = os.environ.get("SLURM_JOB_ID")
    while time.monotonic() < deadline:
        if RunFolder(run_dir).has_record():
            record = RunFolder(run_dir).read_record()
            if (record.mlflow_run_id or offline) and record.status == "RUNNING" and \
                    (job is None or record.slurm_job_id == job):
                return record.mlflow_run_id
        time.sleep(0.5)
    raise TimeoutError(f"rank 0 did not set up {run_dir} within {timeout_s:.0f} s")


def _log_to(path: Path) -> logging.Handler:
    """Copy the Python log (Lightning, kdgat) of this run into ``path``."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in _LOGGERS:
        logger_ = logging.getLogger(name)
        if name == "" or not logger_.propagate:
            logger_.addHandler(handler)
        if logger_.getEffectiveLevel() > logging.INFO:
            logger_.setLevel(logging.INFO)
    return handler
