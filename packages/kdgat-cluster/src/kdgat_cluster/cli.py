"""``kdgat-cluster`` (alias ``oscjobmanager``): kdgat presets, sweeps and pipelines as Slurm jobs.

    kdgat-cluster submit automotive_synthetic_supervised_gat_student_no_all_samples training_config.epochs=5
    kdgat-cluster sweep --model-sizes student,teacher --distillations no,standard --model gat --dry-run
    kdgat-cluster pipeline synthetic
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


def _runs_root(root: str | None) -> Path:
    return Path(root) if root else _project_root() / "experimentruns"


@main.command()
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
@click.option("--last", type=int, default=50, show_default=True, help="show the last N submitted jobs")
def status(root, last):
    """Queued, running and finished jobs of this project: config, state, elapsed time, run folder."""
    from kdgat_cluster.records import read_records
    from kdgat_cluster.slurm import SlurmError, sacct, squeue

    records = read_records(_runs_root(root))[-last:]
    ids = [record.job_id for record in records]
    try:
        states = squeue(ids)
        states.update(sacct([i for i in ids if i not in states]))
    except SlurmError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{'job':>8}  {'state':<12} {'elapsed':>10}  {'config':<62} run folder")
    for record in records:
        state = states.get(record.job_id)
        label = state.state if state else "UNKNOWN"
        if state and state.state == "PENDING" and state.reason not in ("", "None"):
            label = f"PENDING({state.reason})"
        click.echo(f"{record.job_id:>8}  {label:<12} {state.elapsed if state else '-':>10}  {record.config_name:<62} "
                   f"{record.run_dir}")
    click.echo(f"{len(records)} job(s)")


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
