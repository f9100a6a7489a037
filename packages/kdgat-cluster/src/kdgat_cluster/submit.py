"""Submit a plan: create the MLflow database and experiments first, allocate each job's run folder,
write its script into the run tree, sbatch it with afterok on the jobs it waits for, record it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from kdgat_schemas import JobSpec, RunPaths, atomic_write

from kdgat_cluster.code_snapshot import CodeSnapshot, sync_environment, take_snapshot
from kdgat_cluster.plan import PlanError, PlannedJob
from kdgat_cluster.profile import ClusterProfile
from kdgat_cluster.records import JobRecord, write_record
from kdgat_cluster.render import log_pattern, render, script_path
from kdgat_cluster.slurm import SlurmError, require_slurm, sbatch


def runs_root_of(project_root: Path, overrides: list[str]) -> Path:
    for override in overrides:
        if override.startswith("runs_root="):
            root = Path(override.split("=", 1)[1])
            return root if root.is_absolute() else project_root / root
    return project_root / "experimentruns"


def _venv(project_root: Path, profile: ClusterProfile, snapshot: CodeSnapshot | None = None) -> str | None:
    """The environment jobs run in: the snapshot's own synced one, else the profile's ``venv``."""
    if snapshot is not None and snapshot.venv is not None:
        return str(snapshot.venv)
    if profile.venv is None:
        return None
    venv = Path(profile.venv)
    return str(venv if venv.is_absolute() else project_root / venv)


def snapshot_environment(snapshot: CodeSnapshot | None) -> dict[str, str]:
    """What a process exports to run the frozen code (nothing without a snapshot)."""
    return {} if snapshot is None else snapshot.environment()


def _given_tracking(command: list[str]) -> str | None:
    given = [argument.split("=", 1)[1] for argument in command if argument.split("=", 1)[0].lstrip("+") == "tracking"]
    return given[-1] if given else None


def job_tracking(command: list[str], profile: ClusterProfile) -> str:
    """``mlflow`` or ``offline``: the job's own ``tracking=`` override, else the profile's ``tracking``."""
    return _given_tracking(command) or profile.tracking


def _tracking_arguments(command: list[str], profile: ClusterProfile) -> list[str]:
    """``tracking=offline`` for a job of an offline profile that does not say otherwise."""
    return ["tracking=offline"] if profile.tracking == "offline" and _given_tracking(command) is None else []


def job_spec(job: PlannedJob, project_root: Path, profile: ClusterProfile, run_dir: Path, dependencies: list[int],
             snapshot: CodeSnapshot | None = None, hold: bool = False) -> JobSpec:
    command = [*job.command, *_tracking_arguments(job.command, profile), f"run_dir={run_dir}"]
    return JobSpec(
        job_name=f"kdgat-{job.key}"[:120], command=command, project_root=str(project_root),
        job_dir=str(run_dir / "slurm"), resources=job.resources, dependencies=dependencies,
        modules=[*profile.modules, *(profile.gpu_modules if job.resources.gpus_per_node else [])],
        # torch's threads follow the CPUs the job asked for, whatever the profile's environment says
        environment={**profile.environment, "OMP_NUM_THREADS": str(job.resources.cpus_per_task),
                     **snapshot_environment(snapshot)},
        venv=_venv(project_root, profile, snapshot),
        hold=hold,
    )


def _next_run_dir(paths: RunPaths, job: PlannedJob, taken: dict[Path, int]) -> Path:
    """The folder a job would get (dry run: nothing is created)."""
    parent = paths.variant_dir(job.run_name)
    existing = paths.existing_runs(job.run_name)
    number = (RunPaths.run_number(existing[-1]) if existing else 0) + 1 + taken.get(parent, 0)
    taken[parent] = taken.get(parent, 0) + 1
    return parent / f"run_{number:03d}"


def dry_run(plan: list[PlannedJob], project_root: Path, profile: ClusterProfile, runs_root: Path, say=print) -> list[str]:
    """Print every script of ``plan`` (job ids shown as placeholders); submit and create nothing."""
    if _kdgat_runs(project_root, profile) is not None:
        plan = check_jobs(plan, project_root, profile, say)
    else:
        say("# warning: kdgat-runs is not installed here, so the job configs were not checked")
    paths, taken, scripts = RunPaths(runs_root), {}, []
    ids = {job.key: 1000001 + index for index, job in enumerate(plan)}  # placeholders for afterok lines
    for job in plan:
        spec = job_spec(job, project_root, profile, _next_run_dir(paths, job, taken), [ids[key] for key in job.after])
        scripts.append(render(spec))
        say(f"# ---- {job.key}: {script_path(spec)} (dry run: not written, not submitted)")
        say(scripts[-1])
    say("# at submission the committed code is frozen into a snapshot the jobs run (see docs/cluster.md)")
    say(f"# dry run: {len(plan)} job(s), nothing submitted" +
        ("; job ids 1000001... are placeholders for the real ones" if any(job.after for job in plan) else ""))
    return scripts


def _kdgat_runs(project_root: Path, profile: ClusterProfile, snapshot: CodeSnapshot | None = None) -> str | None:
    """The ``kdgat-runs`` of the jobs' environment (the snapshot's or the profile's venv), else of this one."""
    venv = _venv(project_root, profile, snapshot)
    candidates = [Path(venv) / "bin" / "kdgat-runs"] if venv else []
    return next((str(c) for c in candidates if c.is_file()), None) or shutil.which("kdgat-runs")


def _run_kdgat_runs(project_root: Path, profile: ClusterProfile, arguments: list[str], purpose: str,
                    stdin: str | None = None, snapshot: CodeSnapshot | None = None) -> str:
    found = _kdgat_runs(project_root, profile, snapshot)
    if found is None:
        raise SlurmError(f"cannot {purpose}: kdgat-runs (package kdgat-train) is not installed in "
                         f"{_venv(project_root, profile, snapshot) or 'this environment'}; install the project there "
                         "first (uv sync)")
    done = subprocess.run([found, *arguments], capture_output=True, text=True, timeout=300, input=stdin,
                          env={**os.environ, "KDGAT_PROJECT_ROOT": str(project_root), **snapshot_environment(snapshot)},
                          cwd=project_root)
    if done.returncode != 0:
        raise SlurmError(f"kdgat-runs {arguments[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def init_tracking(project_root: Path, profile: ClusterProfile, runs_root: Path, names: list[str],
                  snapshot: CodeSnapshot | None = None) -> None:
    """Create the MLflow database and the experiments before any job starts (jobs never race to);
    nothing when no job tracks with MLflow (every one offline)."""
    if not names:
        return
    _run_kdgat_runs(project_root, profile, ["init-tracking", "--root", str(runs_root), *names],
                    "create the MLflow database before submitting", snapshot=snapshot)


def check_jobs(plan: list[PlannedJob], project_root: Path, profile: ClusterProfile, say=print,
               snapshot: CodeSnapshot | None = None) -> list[PlannedJob]:
    """Compose and validate every job's kdgat-train command as the job would (torch-free, on this node)
    before anything is written: an unknown key or a wrong type is a `PlanError` naming the job; a
    dataset folder missing here is a warning (the data may live on the cluster only). Returns the
    plan without the pipeline stage jobs their pipeline leaves out (a stage that learns from labels
    on a training split without attacks), said in one line."""
    commands = [[*job.command, *_tracking_arguments(job.command, profile)] for job in plan]
    verdicts = json.loads(_run_kdgat_runs(project_root, profile, ["check-jobs"], "check the job configs",
                                          stdin=json.dumps(commands), snapshot=snapshot))
    errors = [f"{job.key}: {verdict['error']}" for job, verdict in zip(plan, verdicts, strict=True) if verdict["error"]]
    if errors:
        raise PlanError("invalid configuration, nothing submitted:\n  " + "\n  ".join(errors[:10])
                        + (f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""))
    for warning in dict.fromkeys(w for verdict in verdicts for w in verdict["warnings"]):
        say(f"warning: {warning}")
    left_out = {job.key: verdict["left_out"] for job, verdict in zip(plan, verdicts, strict=True) if verdict.get("left_out")}
    if not left_out:
        return plan
    for reason in dict.fromkeys(left_out.values()):
        say(f"left out: {', '.join(key for key, why in left_out.items() if why == reason)}: {reason} "
            "(pipeline.supervised=force plans them anyway)")
    return [replace(job, after=[key for key in job.after if key not in left_out]) for job in plan if job.key not in left_out]


def freeze_code(project_root: Path, profile: ClusterProfile, runs_root: Path, say=print, *,
                allow_dirty: bool = False) -> CodeSnapshot:
    """The code snapshot jobs submitted now will run (`code_snapshot.take_snapshot`) with its own
    environment synced from its ``uv.lock`` (unless the profile says ``snapshot_environment = "profile"``),
    said on the console."""
    snapshot = take_snapshot(project_root, runs_root, allow_dirty=allow_dirty)
    say(f"code frozen at commit {snapshot.commit[:12]}{' + uncommitted changes' if snapshot.dirty else ''}: {snapshot.path}")
    if profile.snapshot_environment == "sync":
        try:
            venv = sync_environment(snapshot, say)
        except BaseException:
            snapshot.discard(runs_root)
            raise
        if venv is not None:
            say(f"jobs run in the snapshot's environment, synced from its uv.lock: {venv}")
    if not snapshot.python_path():
        say(f"warning: {snapshot.path} holds no packages/*/src: the jobs read its configs/ but run the code installed "
            f"in {_venv(project_root, profile) or 'their environment'}")
    return snapshot


def submit_plan(plan: list[PlannedJob], project_root: Path, profile: ClusterProfile, runs_root: Path,
                say=print, *, allow_dirty: bool = False, hold: bool = False,
                snapshot: CodeSnapshot | None = None) -> list[JobRecord]:
    """Freeze the code (`code_snapshot`; or run ``snapshot``, frozen before), check every job's config,
    then submit every job in order, each running that snapshot; returns their records (job ids in plan
    order). ``hold``: every job waits for `scontrol release`."""
    try:
        require_slurm()  # before the MLflow database and any run folder are made
    except SlurmError:
        # A wrong override deserves its own message before "no Slurm here": check the configs with
        # this tree's kdgat-runs (nothing is written), then say what is missing.
        if _kdgat_runs(project_root, profile) is not None:
            check_jobs(plan, project_root, profile, say)
        raise
    given = snapshot is not None
    snapshot = snapshot or freeze_code(project_root, profile, runs_root, say, allow_dirty=allow_dirty)
    try:
        plan = check_jobs(plan, project_root, profile, say, snapshot=snapshot)
    except BaseException:
        if not given:
            snapshot.discard(runs_root)  # nothing submitted: nothing left behind
        raise
    init_tracking(project_root, profile, runs_root, sorted({job.run_name.format() for job in plan
                                                            if job_tracking(job.command, profile) == "mlflow"}),
                  snapshot)
    return submit_jobs(plan, project_root, profile, runs_root, snapshot, say, hold=hold)


def submit_jobs(plan: list[PlannedJob], project_root: Path, profile: ClusterProfile, runs_root: Path,
                snapshot: CodeSnapshot, say=print, *, hold: bool = False) -> list[JobRecord]:
    """Allocate each job's run folder, write its script and sbatch it (configs checked, tracking ready)."""
    paths, ids, records = RunPaths(runs_root), {}, []
    for job in plan:
        run_dir = paths.allocate_run_dir(job.run_name)
        spec = job_spec(job, project_root, profile, run_dir, [ids[key] for key in job.after], snapshot, hold)
        script = script_path(spec)
        script.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(script, render(spec))
        try:
            ids[job.key] = sbatch(script)
        except BaseException:  # no job holds this folder: remove it, so it never shifts later run numbers
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        record = JobRecord(job_id=ids[job.key], job_name=spec.job_name, config_name=job.run_name.format(),
                           command=spec.command, run_dir=str(run_dir), script=str(script),
                           log_pattern=str(log_pattern(spec)), dependencies=spec.dependencies)
        write_record(runs_root, record)
        records.append(record)
        waits = f" after {', '.join(str(ids[k]) for k in job.after)}" if job.after else ""
        say(f"submitted job {ids[job.key]}{' (held)' if hold else ''}: {job.key}{waits} -> {run_dir}")
    return records
