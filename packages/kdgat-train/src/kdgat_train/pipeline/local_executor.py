"""``pipeline.jobs=N``: a pipeline's independent stages, seeds and baselines trained as N processes.

The stage DAG of one seed has independent branches (the two teachers; the students; the
baselines), and the seeds of ``pipeline.seeds`` are independent pipelines. Small graph models use
a second thread poorly, so N processes with ``cores / N`` threads each finish the same work
sooner than one process with every core. Scheduling is the pipeline's own DAG: a stage is
submitted as soon as every stage it needs has a run folder; the processes are joblib's reusable
loky workers (each imports torch once and trains one stage after another).

This only trains. The sequential pipeline then runs as always and finds each stage as the
completed run it reuses (its config is identical), so the run folders, run.json files, MLflow runs,
comparison tables and reports are the ones ``pipeline.jobs=1`` writes; ``pipeline.json`` marks the
stages trained here as trained, not reused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path

from joblib.externals.loky import get_reusable_executor

from kdgat_train.baselines.baseline_detectors import BaselineNotApplicable
from kdgat_train.baselines.baseline_stage import run_baseline
from kdgat_train.known_warnings import quiet_known_warnings
from kdgat_train.pipeline.completed_runs import identical_completed_run
from kdgat_train.pipeline.dag import baseline_settings, stage_settings
from kdgat_train.pipeline.settings import PipelineSettings, one_seed
from kdgat_train.pipeline.stage_plan import plan_stages
from kdgat_train.quiet_console import quiet_console
from kdgat_train.stages.single_stage import run_stage
from kdgat_train.thread_count import usable_cpus


@dataclass
class StageTask:
    """One stage of one seed (or a baseline): what it needs and how its settings are made from their runs."""

    key: str
    label: str
    needs: tuple[str, ...]
    settings_of: Callable[[dict[str, str]], object]  # {needed key: run folder} -> RunSettings / BaselineSettings
    baseline: bool = False


def stage_tasks(settings: PipelineSettings, seeds: list[int]) -> list[StageTask]:
    """Every stage and baseline of the pipeline for each of ``seeds``, keyed ``seed/stage``."""
    tasks = []
    for seed in seeds:
        seeded = one_seed(settings, seed, last=False)
        plan = plan_stages(seeded)
        for stage in plan.stages:
            needs = tuple(f"{seed}/{key}" for key in stage.needs.values())

            def make(run_dirs, stage=stage, seeded=seeded, seed=seed):
                return stage_settings(seeded, stage, {k.split("/", 1)[1]: v for k, v in run_dirs.items()
                                                      if k.startswith(f"{seed}/")})

            tasks.append(StageTask(f"{seed}/{stage.key}", f"seed {seed} {stage.name.format()}", needs, make))
        for method in (m for m in seeded.baseline_methods() if m not in plan.left_out_baselines):
            tasks.append(StageTask(f"{seed}/baseline_{method}", f"seed {seed} baseline {method}", (),
                                   lambda run_dirs, seeded=seeded, method=method: baseline_settings(seeded, method),
                                   baseline=True))
    return tasks


def _train(stage_config, baseline: bool) -> str | None:
    """In a worker process: train (or fit) one stage (its ``device.threads`` set to this job's share of
    the cores); its run folder (None for a baseline that does not apply to the dataset)."""
    with quiet_known_warnings():  # what the main process silences, imports included
        import lightning  # noqa: F401 - its console handler must exist before quiet_console filters the handlers
        import torch_geometric  # noqa: F401

    with quiet_known_warnings(), quiet_console(chatty=False):
        if baseline:
            try:
                return str(run_baseline(stage_config))
            except BaselineNotApplicable:
                return None
        return str(run_stage(stage_config))


def threads_per_job(settings: PipelineSettings, jobs: int) -> int:
    """The intra-op threads each of ``jobs`` processes gets: ``device.threads``, else the usable CPUs / jobs."""
    return settings.device.threads or max(1, usable_cpus() // jobs)


def train_in_parallel(settings: PipelineSettings, seeds: list[int], jobs: int, say=print) -> set[str]:
    """Train every stage and baseline of ``seeds`` that has no identical completed run, ``jobs`` at a time
    in dependency order; returns the run folders trained. A failed stage stops the submission of new
    ones, lets the running ones finish and raises its error."""
    log = logging.getLogger(__name__)
    tasks = {task.key: task for task in stage_tasks(settings, seeds)}
    threads = threads_per_job(settings, jobs)
    done: dict[str, str] = {}  # key -> run folder (trained or reused)
    trained: set[str] = set()
    skipped: set[str] = set()  # baselines that do not apply
    started: set[str] = set()
    running: dict[Future, StageTask] = {}
    failure: BaseException | None = None
    say(f"pipeline.jobs={jobs}: training stages {jobs} at a time with {threads} thread{'s' * (threads > 1)} each")
    executor = get_reusable_executor(max_workers=jobs, timeout=60)
    try:
        while True:
            ready = [t for t in tasks.values()
                     if t.key not in done.keys() | skipped | started and all(n in done for n in t.needs)]
            for task in ready if failure is None else []:
                config = task.settings_of({n: done[n] for n in task.needs})
                reused = None if settings.pipeline.force else identical_completed_run(config)
                if reused is not None:
                    done[task.key] = str(reused)
                    continue
                config = config.model_copy(update={"device": config.device.model_copy(update={"threads": threads})})
                say(f"  started {task.label}")
                started.add(task.key)
                running[executor.submit(_train, config, task.baseline)] = task
            if not running:
                if failure is None and ready:
                    continue  # reused stages may have made more stages ready
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                task = running.pop(future)
                try:
                    run_dir = future.result()
                except BaseException as error:  # noqa: BLE001 - reported after the running stages finish
                    log.error("%s failed: %s", task.label, error)
                    say(f"  FAILED {task.label}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
                    failure = failure or error
                    continue
                if run_dir is None:
                    skipped.add(task.key)
                    continue
                done[task.key] = run_dir
                trained.add(str(Path(run_dir)))
                say(f"  finished {task.label}: {run_dir}")
    except KeyboardInterrupt:
        executor.shutdown(wait=False, kill_workers=True)
        raise
    if failure is not None:
        raise failure
    return trained
