"""``kdgat-cluster`` (alias ``oscjobmanager``): kdgat presets, sweeps and pipelines as Slurm jobs.

    kdgat-cluster submit automotive_synthetic_supervised_gat_student_no_all_samples training_config.epochs=5
    kdgat-cluster sweep --model-sizes student,teacher --distillations no,standard --model gat --dry-run
    kdgat-cluster pipeline synthetic
    kdgat-cluster tune NAME --param distillation_config.alpha=float:0.1:0.9 --trials 32 --parallel 4
    kdgat-cluster status | cancel JOB_ID... | logs JOB_ID

Imports nothing heavier than pydantic and click, so it answers at once on a login node.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

PROFILE_HELP = "cluster profile: configs/cluster/NAME.toml (default: $KDGAT_CLUSTER_PROFILE or osc)"


def _project_root() -> Path:
    from kdgat_schemas import find_project_root

    root = find_project_root()
    if root is None:
        raise click.ClickException("no configs/datasets.yaml in this folder or its parents; run from the kdgat project")
    return root


def _split(values: str) -> list[str]:
    return [value.strip() for value in values.split(",") if value.strip()]


def _resources(time, gpus, memory, cpus, partition):
    from kdgat_cluster.plan import ResourceRequest

    return ResourceRequest(time=time, gpus=gpus, memory=memory, cpus=cpus, partition=partition)


def resource_options(command):
    for option in reversed([
        click.option("--profile", default=None, help=PROFILE_HELP),
        click.option("--time", default=None, help="time limit, e.g. 04:00:00"),
        click.option("--gpus", type=int, default=None, help="GPUs per node (> 1: DDP, one srun task per GPU)"),
        click.option("--memory", default=None, help="memory per node, e.g. 32G"),
        click.option("--cpus", type=int, default=None, help="CPUs per task"),
        click.option("--partition", default=None),
        click.option("--dry-run", is_flag=True, help="print every script; submit and create nothing"),
        click.option("--allow-dirty", is_flag=True, help="submit with uncommitted changes: the diff and untracked "
                     "files go into the jobs' code snapshot (default: refused)"),
        click.option("--hold", is_flag=True, help="submit the jobs held; they start after `scontrol release JOB_ID`"),
    ]):
        command = option(command)
    return command


def _go(build_plan, profile_name, overrides, dry_run, allow_dirty=False, hold=False) -> None:
    """Validate everything, then print (dry run) or submit; every error is one clear message."""
    from kdgat_schemas import ExperimentNameError, UnsafeValueError
    from pydantic import ValidationError

    from kdgat_cluster.code_snapshot import SnapshotError
    from kdgat_cluster.plan import PlanError, known_datasets
    from kdgat_cluster.profile import ProfileError, load_profile
    from kdgat_cluster.slurm import SlurmError
    from kdgat_cluster.submit import dry_run as print_scripts
    from kdgat_cluster.submit import runs_root_of, submit_plan

    root = _project_root()
    try:
        profile = load_profile(root, profile_name or os.environ.get("KDGAT_CLUSTER_PROFILE", "osc"))
        plan = build_plan(profile, known_datasets(root))
        runs_root = runs_root_of(root, list(overrides))
        if dry_run:
            print_scripts(plan, root, profile, runs_root, say=click.echo)
        else:
            submit_plan(plan, root, profile, runs_root, say=click.echo, allow_dirty=allow_dirty, hold=hold)
    except (PlanError, ProfileError, SlurmError, ExperimentNameError, UnsafeValueError, SnapshotError) as error:
        raise click.ClickException(str(error)) from None
    except ValidationError as error:
        raise click.ClickException("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Run kdgat presets, sweeps and pipelines on Slurm; results land in experimentruns/ as local runs do."""


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@resource_options
def submit(name, overrides, profile, time, gpus, memory, cpus, partition, dry_run, allow_dirty, hold):
    """Submit preset NAME with OVERRIDES (KEY=VALUE, as for kdgat-train) as one job."""
    from kdgat_cluster.plan import plan_submit

    request = _resources(time, gpus, memory, cpus, partition)
    _go(lambda p, catalog: plan_submit(name, list(overrides), p, request, catalog), profile, overrides, dry_run,
        allow_dirty, hold)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@click.option("--model-sizes", "sizes", default="student,teacher", show_default=True)
@click.option("--distillations", default="no,standard", show_default=True)
@click.option("--datasets", default="synthetic", show_default=True, help="catalog keys, comma-separated")
@click.option("--modes", default="", help="modes (default: the first of each model: all_samples)")
@click.option("--model", "models", default="vgae,gat", show_default=True, help="vgae, gat, dqn (comma-separated)")
@click.option("--domain", default="automotive", show_default=True)
@resource_options
def sweep(overrides, sizes, distillations, datasets, modes, models, domain, profile, time, gpus, memory, cpus,
          partition, dry_run, allow_dirty, hold):
    """Submit the Cartesian product of the options (KD students wait for their teachers in the sweep)."""
    from kdgat_cluster.plan import plan_sweep

    request = _resources(time, gpus, memory, cpus, partition)
    _go(lambda p, catalog: plan_sweep(_split(models), _split(sizes), _split(distillations), _split(datasets),
                                      _split(modes), domain, list(overrides), p, request, catalog, say=click.echo),
        profile, overrides, dry_run, allow_dirty, hold)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("dataset")
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@click.option("--domain", default="automotive", show_default=True)
@click.option("--vgae-mode", default="normals_only", show_default=True)
@click.option("--gat-mode", default="all_samples", show_default=True)
@resource_options
def pipeline(dataset, overrides, domain, vgae_mode, gat_mode, profile, time, gpus, memory, cpus, partition, dry_run,
             allow_dirty, hold):
    """Submit the pipeline of DATASET (catalog key, or {domain}_{dataset}_pipeline): one job per stage,
    each after the stages it needs (afterok; a failed stage cancels its dependents), then the table."""
    from kdgat_cluster.plan import plan_pipeline

    request = _resources(time, gpus, memory, cpus, partition)
    _go(lambda p, catalog: plan_pipeline(dataset, domain, vgae_mode, gat_mode, list(overrides), p, request, catalog),
        profile, overrides, dry_run, allow_dirty, hold)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@click.option("--param", "params", multiple=True, required=True,
              help="KEY=float:LOW:HIGH, logfloat:LOW:HIGH, int:LOW:HIGH or categorical:A,B (repeatable)")
@click.option("--trials", type=int, default=32, show_default=True, help="finished trials the study should hold")
@click.option("--parallel", type=int, default=4, show_default=True, help="trials (jobs) in the queue at once")
@click.option("--objective", default="val/auprc", show_default=True, help="run.json metric to optimise")
@click.option("--direction", type=click.Choice(["maximize", "minimize"]), default="maximize", show_default=True)
@click.option("--study", "study_name", default=None, help="study name (default: NAME); the same name resumes it")
@click.option("--allow-test-objective", is_flag=True, help="allow a test/ objective (the study is marked as chosen on test)")
@click.option("--poll", type=float, default=10.0, show_default=True, help="seconds between job-state checks")
@click.option("--seed", type=int, default=None, help="sampler seed (the same seed proposes the same trials)")
@click.option("--enqueue", "enqueued", multiple=True, help="a trial to try first, KEY=VALUE,KEY=VALUE for every --param "
              "(e.g. the published setting); repeatable, added once per study")
@click.option("--profile", default=None, help=PROFILE_HELP)
@click.option("--time", default=None, help="time limit per trial, e.g. 04:00:00")
@click.option("--gpus", type=int, default=None)
@click.option("--memory", default=None)
@click.option("--cpus", type=int, default=None)
@click.option("--partition", default=None)
@click.option("--allow-dirty", is_flag=True, help="freeze uncommitted changes into the trials' code snapshot")
def tune(name, overrides, params, trials, parallel, objective, direction, study_name, allow_test_objective, poll,
         seed, enqueued, profile, time, gpus, memory, cpus, partition, allow_dirty):
    """Optuna search over preset NAME: each trial one Slurm job with the trial's values as overrides,
    the objective read from its run.json; the study (an Optuna journal file under
    experimentruns/.cluster/tune/) resumes when the command is run again."""
    from kdgat_schemas import ExperimentNameError, UnsafeValueError

    from kdgat_cluster.code_snapshot import SnapshotError
    from kdgat_cluster.plan import PlanError, check_overrides, known_datasets, plan_submit
    from kdgat_cluster.profile import ProfileError, load_profile
    from kdgat_cluster.slurm import SlurmError, require_slurm, sacct, squeue
    from kdgat_cluster.submit import (
        check_jobs,
        freeze_code,
        init_tracking,
        job_tracking,
        runs_root_of,
        submit_jobs,
    )
    from kdgat_cluster.tune import SearchParameter, parse_enqueued, reproduce_command, run_study

    root = _project_root()
    request = _resources(time, gpus, memory, cpus, partition)
    try:
        parameters = [SearchParameter.parse(text) for text in params]
        fixed_trials = [parse_enqueued(text, parameters) for text in enqueued]
        fixed = {override.split("=", 1)[0] for override in check_overrides(list(overrides))}
        both = [p.key for p in parameters if p.key in fixed]
        if both:
            raise PlanError(f"{', '.join(both)}: given both as an override and as a --param")
        cluster = load_profile(root, profile or os.environ.get("KDGAT_CLUSTER_PROFILE", "osc"))
        catalog = known_datasets(root)
        runs_root = runs_root_of(root, list(overrides))
        plan_submit(name, list(overrides), cluster, request, catalog)  # the preset and overrides, before anything
        require_slurm()
        snapshot = freeze_code(root, cluster, runs_root, click.echo, allow_dirty=allow_dirty)
        init_tracking(root, cluster, runs_root, [name] if job_tracking(list(overrides), cluster) == "mlflow" else [],
                      snapshot)

        def submit_trial(trial_overrides):
            plan = plan_submit(name, trial_overrides, cluster, request, catalog)
            check_jobs(plan, root, cluster, click.echo, snapshot=snapshot)
            [record] = submit_jobs(plan, root, cluster, runs_root, snapshot, say=lambda message: None)
            return record.job_id, record.run_dir

        def job_states(ids):
            states = squeue(ids)
            states.update(sacct([i for i in ids if i not in states]))
            return {i: state.state for i, state in states.items()}

        study = run_study(name=name, parameters=parameters, trials=trials, parallel=parallel, objective=objective,
                          direction=direction, study_name=study_name or name, overrides=list(overrides),
                          allow_test_objective=allow_test_objective, submit_trial=submit_trial,
                          job_states=job_states, runs_root=runs_root, poll_s=poll, say=click.echo, seed=seed,
                          enqueue=fixed_trials)
    except (PlanError, ProfileError, SlurmError, ExperimentNameError, UnsafeValueError, SnapshotError) as error:
        raise click.ClickException(str(error)) from None
    _say_study(study)
    command = reproduce_command(study)
    if command:
        click.echo(f"reproduce the best trial: {command}")


def _say_study(study) -> None:
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state.name == "COMPLETE"]
    click.echo(f"study {study.study_name}: {len(trials)} trial(s), {len(done)} complete, "
               f"{sum(t.state.name == 'FAIL' for t in trials)} failed, {sum(t.state.name == 'RUNNING' for t in trials)} running")
    if study.user_attrs.get("objective_on_test"):
        click.echo("note: the objective is a test-set metric (--allow-test-objective): its best trial was chosen on test")
    if done:
        best = study.best_trial
        click.echo(f"best: trial {best.number}, {study.user_attrs.get('search', {}).get('objective')} = {best.value:.4f}, "
                   f"{' '.join(best.user_attrs.get('overrides', []))} ({best.user_attrs.get('run_dir')})")


@main.command("tune-status")
@click.argument("study_name")
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
def tune_status(study_name, root):
    """Trials of study STUDY_NAME: state, objective, job, values; the best and how to reproduce it."""
    from kdgat_cluster.plan import PlanError
    from kdgat_cluster.tune import open_study, reproduce_command

    try:
        study = open_study(_runs_root(root), study_name, create=False)
    except PlanError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{'trial':>5}  {'state':<9} {'value':>9}  {'job':>8}  values / failure")
    for trial in study.get_trials(deepcopy=False):
        value = f"{trial.value:.4f}" if trial.value is not None else "-"
        detail = " ".join(trial.user_attrs.get("overrides", []))
        if trial.user_attrs.get("failure"):
            detail += f"  ({trial.user_attrs['failure']})"
        click.echo(f"{trial.number:>5}  {trial.state.name:<9} {value:>9}  {trial.user_attrs.get('job_id', '-'):>8}  {detail}")
    _say_study(study)
    command = reproduce_command(study)
    if command:
        click.echo(f"reproduce the best trial: {command}")


def _runs_root(root: str | None) -> Path:
    return Path(root) if root else _project_root() / "experimentruns"


@main.group()
def snapshots():
    """The code snapshots jobs run (one per distinct submitted commit, each with its environment)."""


@snapshots.command("list")
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
def snapshots_list(root):
    """Each snapshot: content hash, commit, made when, disk it takes, and the jobs of it still queued or running."""
    import datetime

    from kdgat_cluster.records import read_records
    from kdgat_cluster.snapshot_store import list_snapshots, snapshot_of

    runs_root = _runs_root(root)
    found = list_snapshots(runs_root)
    active = _active_jobs(read_records(runs_root))
    click.echo(f"{'snapshot':<18} {'commit':<13} {'made':<17} {'size':>9}  jobs queued or running")
    for snapshot in found:
        jobs = [str(r.job_id) for r in active if (p := snapshot_of(r)) is not None and p.resolve() == snapshot.path.resolve()]
        made = datetime.datetime.fromtimestamp(snapshot.created).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{snapshot.content_hash:<18} {snapshot.commit[:12] + ('+' if snapshot.dirty else ''):<13} {made:<17} "
                   f"{snapshot.size_bytes / 1024**2:>7.0f} M  {', '.join(jobs) or '-'}")
    total = sum(snapshot.size_bytes for snapshot in found)
    click.echo(f"{len(found)} snapshot(s), {total / 1024**3:.2f} GiB under {runs_root / '.cluster' / 'snapshots'}")


@snapshots.command("prune")
@click.option("--keep", type=int, required=True, help="keep the N newest snapshots (and every one a job still needs)")
@click.option("--dry-run", is_flag=True, help="say what would be removed, remove nothing")
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
def snapshots_prune(keep, dry_run, root):
    """Remove old code snapshots: all but the KEEP newest, never one a queued or running job uses."""
    from kdgat_cluster.records import read_records
    from kdgat_cluster.snapshot_store import list_snapshots, prune_snapshots, snapshot_of

    runs_root = _runs_root(root)
    if keep < 0:
        raise click.ClickException(f"--keep must be 0 or more, got {keep}")
    active = _active_jobs(read_records(runs_root))
    in_use = {p.resolve() for record in active if (p := snapshot_of(record)) is not None}
    removed = prune_snapshots(list_snapshots(runs_root), keep, in_use, dry_run=dry_run)
    freed = sum(snapshot.size_bytes for snapshot in removed)
    verb = "would remove" if dry_run else "removed"
    for snapshot in removed:
        click.echo(f"{verb} {snapshot.path} (commit {snapshot.commit[:12]}, {snapshot.size_bytes / 1024**2:.0f} MB)")
    click.echo(f"{verb} {len(removed)} snapshot(s), {freed / 1024**3:.2f} GiB; kept the {keep} newest"
               + (f" and {len(in_use)} a queued or running job uses" if in_use else ""))


def _active_jobs(records):
    """The recorded jobs Slurm still has queued or running (Slurm must answer: a prune that cannot tell
    which snapshots jobs still need removes nothing)."""
    from kdgat_cluster.job_status import TERMINAL_STATES
    from kdgat_cluster.slurm import SlurmError, queue_states, require_slurm

    if not records:
        return []
    try:
        require_slurm(("squeue",))
        states = queue_states()
    except SlurmError as error:
        raise click.ClickException(f"cannot tell which snapshots queued or running jobs use: {error}") from None
    return [record for record in records if record.job_id in states and states[record.job_id] not in TERMINAL_STATES]


@main.command()
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
@click.option("--last", type=int, default=50, show_default=True, help="show the last N submitted jobs")
@click.option("--watch", "watch", type=float, default=None, is_flag=False, flag_value=10.0,
              help="refresh every N seconds (default 10) until every job has ended; Ctrl-C stops watching")
@click.option("--tail", "tail_lines", type=int, default=5, show_default=True,
              help="lines of a failed job's log to show")
def status(root, last, watch, tail_lines):
    """Jobs of this project: state, elapsed / time limit, config, the finished run's headline metric
    (validation F1, mean test F1 and FPR) and run folder; a failed job shows the end of its log."""
    import time as clock

    from kdgat_cluster.job_status import header, job_status
    from kdgat_cluster.records import read_records
    from kdgat_cluster.slurm import SlurmError, sacct, squeue
    from kdgat_cluster.snapshot_store import list_snapshots, size_line

    while True:
        records = read_records(_runs_root(root))[-last:]
        ids = [record.job_id for record in records]
        try:
            states = squeue(ids)
            states.update(sacct([i for i in ids if i not in states]))
        except SlurmError as error:
            raise click.ClickException(str(error)) from None
        rows = [job_status(record, states.get(record.job_id), tail_lines) for record in records]
        if watch is not None:
            click.clear()
        click.echo(header())
        for row in rows:
            click.echo(row.line())
            for line in row.log_tail:
                click.echo(f"{'':>10}| {line}")
        ended = sum(row.finished for row in rows)
        click.echo(f"{len(records)} job(s), {ended} ended" + (f"; refreshing every {watch:g} s (Ctrl-C stops)"
                                                                if watch is not None and ended < len(rows) else ""))
        if (line := size_line(list_snapshots(_runs_root(root)))) is not None:
            click.echo(line)
        if watch is None or ended == len(rows):
            return
        try:
            clock.sleep(watch)
        except KeyboardInterrupt:
            return


@main.command()
@click.argument("job_ids", nargs=-1, type=int, required=True)
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
def cancel(job_ids, root):
    """Cancel jobs of this project by id."""
    from kdgat_cluster.records import read_records
    from kdgat_cluster.slurm import SlurmError, scancel

    known = {record.job_id for record in read_records(_runs_root(root))}
    unknown = [i for i in job_ids if i not in known]
    if unknown:
        raise click.ClickException(f"not jobs of this project: {', '.join(map(str, unknown))} (see kdgat-cluster status)")
    try:
        scancel(list(job_ids))
    except SlurmError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"cancelled {', '.join(map(str, job_ids))}")


@main.command()
@click.argument("job_id", type=int)
@click.option("--lines", "-n", type=int, default=0, help="only the last N lines")
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
def logs(job_id, lines, root):
    """Print the Slurm log of JOB_ID (kept in the run tree next to the run)."""
    from kdgat_cluster.records import read_records

    record = next((r for r in read_records(_runs_root(root)) if r.job_id == job_id), None)
    if record is None:
        raise click.ClickException(f"job {job_id} is not a job of this project (see kdgat-cluster status)")
    path = record.log_file()
    if not path.is_file():
        raise click.ClickException(f"{path}: no log yet (the job has not started)")
    text = path.read_text(errors="replace")
    click.echo("\n".join(text.splitlines()[-lines:]) if lines else text, nl=not text.endswith("\n"))


if __name__ == "__main__":
    main(sys.argv[1:])
