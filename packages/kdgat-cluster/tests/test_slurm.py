"""Against a real single-node Slurm: jobs train and land in the run tree and MLflow, pipelines run in
dependency order and a failed upstream cancels its dependents, sweeps, status, cancel, srun DDP,
and a requeue that resumes from last.ckpt."""

import json
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from kdgat_cluster.cli import main
from kdgat_cluster.records import read_records
from kdgat_schemas import RunRecord

from .conftest import LOCAL_PROFILE, REPO, TINY_CATALOG, commit_all, job_state, wait_for

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
GAT = "automotive_synthetic_supervised_gat_student_no_all_samples"
FAST = ["training_config.epochs=1", "training_config.batch_size=64"]
TINY = ["model_sizes.vgae_teacher.hidden_dim=32", "model_sizes.vgae_teacher.latent_dim=8", "model_sizes.vgae_teacher.heads=1",
        "model_sizes.gat_teacher.hidden_dim=16", "model_sizes.gat_teacher.num_layers=2", "model_sizes.gat_teacher.heads=2",
        "model_sizes.dqn_teacher.hidden_dim=32"]


def _cli(*arguments) -> str:
    result = CliRunner().invoke(main, list(arguments))
    assert result.exit_code == 0, result.output
    return result.output


def _mlflow(root: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{root / 'mlflow.db'}")


def _submitted(output: str) -> dict[str, int]:
    """``{job key: job id}`` from the ``submitted job N: KEY ...`` lines."""
    jobs = {}
    for line in output.splitlines():
        if line.startswith("submitted job "):
            number, key = line.removeprefix("submitted job ").split(": ", 1)
            jobs[key.split(" ")[0]] = int(number.removesuffix(" (held)"))
    return jobs


def _started_at(log: Path) -> datetime:
    first = next(line for line in log.read_text().splitlines() if line.startswith("kdgat job "))
    return datetime.fromisoformat(first.rsplit(" at ", 1)[1])


def test_submitted_training_job_lands_in_the_run_tree_and_mlflow(project, slurm):
    runs = project / "runs_submit"
    submitted_at = datetime.now().astimezone()
    output = _cli("submit", GAT, *FAST, f"runs_root={runs}")
    [job] = _submitted(output).values()
    assert wait_for([job]) == {job: "COMPLETED"}
    [record] = read_records(runs)
    run_dir = Path(record.run_dir)
    assert RunRecord.read(run_dir).status == "COMPLETED" and RunRecord.read(run_dir).slurm_job_id == str(job)
    assert (run_dir / "slurm" / f"kdgat-{GAT}.sbatch").is_file() and record.log_file().is_file()  # next to the run
    run = _mlflow(runs).get_run(RunRecord.read(run_dir).mlflow_run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["test/dos/f1"] >= 0
    status = _cli("status", "--root", str(runs))
    assert f"{job}  COMPLETED" in status and str(run_dir) in status
    row = next(line for line in status.splitlines() if line.strip().startswith(str(job)))
    assert ("/ 20:00" in row or "/ 00:20:00" in row) and f"test F1 {(run.data.metrics['test/dos/f1'] + run.data.metrics['test/fuzzing/f1']) / 2:.3f}" in row
    watched = _cli("status", "--root", str(runs), "--watch", "1")  # every job has ended: one refresh, then it returns
    assert "1 job(s), 1 ended" in watched
    assert "kdgat job" in _cli("logs", str(job), "--root", str(runs))
    start = _started_at(record.log_file())
    sbatched = datetime.fromisoformat(record.submitted_at)
    print(f"\n`kdgat-cluster submit` called -> job start: {(start - submitted_at).total_seconds():.1f} s "
          f"(sbatch -> job start: {(start - sbatched).total_seconds():.1f} s; the rest is creating the MLflow database)")


def test_pipeline_runs_stages_in_dependency_order_and_builds_the_table(project, slurm):
    runs = project / "runs_pipeline"
    jobs = _submitted(_cli("pipeline", "synthetic", *FAST, *TINY, f"runs_root={runs}"))
    assert len(jobs) == 12
    states = wait_for(list(jobs.values()), timeout_s=900)
    assert set(states.values()) == {"COMPLETED"}, states
    records = {r.job_id: r for r in read_records(runs)}
    started = {key: _started_at(records[job].log_file()) for key, job in jobs.items()}
    finished = {}
    for key, job in jobs.items():
        stage = json.loads(Path(records[job].run_dir, "run.json").read_text()) if key != "comparison_table" else None
        if stage:
            finished[key] = datetime.fromisoformat(stage["finished_at"])
    for key, job in jobs.items():
        for upstream in records[job].dependencies:
            upstream_key = next(k for k, j in jobs.items() if j == upstream)
            if upstream_key in finished:
                assert started[key] >= finished[upstream_key], (key, upstream_key)
    table_run = Path(records[jobs["comparison_table"]].run_dir)
    stages = json.loads((table_run / "pipeline.json").read_text())["stages"]
    graph_stages = [stage for stage in stages if not stage["stage"].startswith("baseline_")]
    assert len(graph_stages) == 11 and all(stage["reused"] for stage in graph_stages)  # no graph model trained here
    assert [s["stage"] for s in stages if s not in graph_stages] == ["baseline_gbdt", "baseline_timing", "baseline_iforest"]
    # header + the all-attack row + 3 baselines (fitted in the table job, seconds) + 17 model rows
    assert (table_run / "comparison.csv").read_text().count("\n") == 22


def test_failed_upstream_cancels_its_dependents(project, slurm):
    runs = project / "runs_failing"
    # 3 heads do not divide the VGAE teacher's encoder widths: a config that passes validation on the login node
    # (a field out of range is refused before submission, see test_cli) but fails when the job builds the model;
    # its dependents never start
    jobs = _submitted(_cli("pipeline", "synthetic", *FAST, "model_sizes.vgae_teacher.heads=3", f"runs_root={runs}"))
    dependents = [jobs[key] for key in ("vgae_student_standard", "dqn_teacher_no", "comparison_table")]
    states = wait_for([jobs["vgae_teacher_no"], *dependents], timeout_s=300)
    assert states[jobs["vgae_teacher_no"]] == "FAILED"
    assert all(states[job] == "CANCELLED" for job in dependents), states  # not PENDING forever
    status = _cli("status", "--root", str(runs))
    failed_row = next(i for i, line in enumerate(status.splitlines()) if line.strip().startswith(str(jobs["vgae_teacher_no"])))
    assert "FAILED" in status.splitlines()[failed_row]
    assert any("Error" in line for line in status.splitlines()[failed_row + 1 : failed_row + 6])  # the end of its log
    subprocess.run(["scancel", *map(str, jobs.values())], check=False)


def test_sweep_status_and_cancel(project, slurm):
    runs = project / "runs_sweep"
    output = _cli("sweep", "--model-sizes", "student,teacher", "--distillations", "no,standard", "--model", "gat",
                  *FAST, "training_config.epochs=50", f"runs_root={runs}")
    jobs = _submitted(output)
    assert len(jobs) == 3 and "skipped 1 teacher x standard" in output
    status = _cli("status", "--root", str(runs))
    assert all(f"{job}  " in status for job in jobs.values()) and "3 job(s)" in status
    kd_student = jobs["automotive_synthetic_supervised_gat_student_standard_all_samples"]
    assert "PENDING(Dependency)" in next(line for line in status.splitlines() if line.strip().startswith(str(kd_student)))
    _cli("cancel", str(kd_student), "--root", str(runs))
    assert wait_for([kd_student], timeout_s=60)[kd_student] == "CANCELLED"
    _cli("cancel", *map(str, jobs.values()), "--root", str(runs))
    assert set(wait_for(list(jobs.values()), timeout_s=120).values()) == {"CANCELLED"}


def test_ddp_with_two_processes_started_by_srun_records_one_run(project, slurm):
    runs = project / "runs_ddp"
    [job] = _submitted(_cli("submit", GAT, *FAST, "device.devices=2", f"runs_root={runs}")).values()
    assert wait_for([job]) == {job: "COMPLETED"}
    [record] = read_records(runs)
    assert "--ntasks-per-node=2" in Path(record.script).read_text()
    log = record.log_file().read_text()
    assert "MEMBER: 2/2" in log  # both ranks were started by srun and joined one process group
    run_dirs = [p for p in runs.glob("automotive/**/run_*") if (p / "run.json").exists()]
    assert len(run_dirs) == 1 and RunRecord.read(run_dirs[0]).status == "COMPLETED"
    experiment = _mlflow(runs).get_experiment_by_name("automotive_synthetic_supervised_gat")
    assert [r.info.status for r in _mlflow(runs).search_runs([experiment.experiment_id])] == ["FINISHED"]


def _release_requeue_hold(job: int, log: Path, timeout_s: float = 120) -> None:
    """Slurm holds a requeued job about two minutes (Reason=BeginTime); start it as soon as it is pending again."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = subprocess.run(["squeue", "-h", "-j", str(job), "-o", "%T|%r"], capture_output=True, text=True).stdout
        if state.startswith("PENDING"):
            subprocess.run(["scontrol", "update", f"jobid={job}", "StartTime=now"], check=False, capture_output=True)
        elif state.startswith("RUNNING") and "(restart 1)" in log.read_text():
            return
        time.sleep(1)


def test_requeue_mid_training_resumes_from_last_checkpoint(project, slurm):
    runs = project / "runs_requeue"
    epochs = 6
    [job] = _submitted(_cli("submit", GAT, f"training_config.epochs={epochs}", "training_config.patience=0",
                            "training_config.batch_size=16", f"runs_root={runs}")).values()
    [record] = read_records(runs)
    last = Path(record.run_dir) / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 300
    while not last.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert last.exists(), record.log_file().read_text()[-3000:]
    subprocess.run(["scontrol", "requeue", str(job)], check=True)
    _release_requeue_hold(job, record.log_file())
    assert wait_for([job], timeout_s=600) == {job: "COMPLETED"}
    log = record.log_file().read_text()
    assert "(restart 1)" in log and "Restoring states from the checkpoint" in log
    run = RunRecord.read(Path(record.run_dir))
    assert run.status == "COMPLETED" and run.timings["epochs"] == epochs
    history = _mlflow(runs).get_metric_history(run.mlflow_run_id, "val/loss")
    assert len({m.step for m in history}) == epochs  # one validation per epoch: none lost, none repeated


def test_a_job_sbatch_refuses_leaves_no_run_folder(project, slurm):
    runs = project / "runs_refused"
    result = CliRunner().invoke(main, ["submit", GAT, *FAST, "--partition", "nosuchpartition", f"runs_root={runs}"])
    assert result.exit_code != 0 and "sbatch" in result.output
    assert not list(runs.glob("**/run_*"))  # no orphan run_NNN/slurm/ shifting later run numbers


def test_a_queued_job_runs_the_code_of_its_submission_not_later_edits(project, slurm, tmp_path, monkeypatch):
    # a checkout of this repository: its packages/ are the code the job is to run
    if not (REPO / ".git").exists():
        pytest.skip(f"{REPO} is not a git checkout (an unpacked archive): nothing to clone")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    (clone / "configs" / "datasets.yaml").write_text(TINY_CATALOG)
    # no usable profile venv: the job can only run in the snapshot's own environment, synced from its uv.lock
    (clone / "configs" / "cluster" / "local.toml").write_text(LOCAL_PROFILE % (tmp_path / "no-such-venv"))
    commit = commit_all(clone, "tiny catalog")
    monkeypatch.setenv("KDGAT_PROJECT_ROOT", str(clone))
    runs = clone / "runs_snapshot"
    output = _cli("submit", "--hold", GAT, *FAST, f"runs_root={runs}")
    [job] = _submitted(output).values()
    assert "code frozen at commit" in output and job_state(job) == "PENDING"
    [snapshot] = (runs / ".cluster" / "snapshots").iterdir()
    assert f"jobs run in the snapshot's environment, synced from its uv.lock: {snapshot / '.venv'}" in output
    [record] = read_records(runs)
    assert f"source {snapshot / '.venv' / 'bin' / 'activate'}" in Path(record.script).read_text()
    # edit the working tree after submission so that a run started from it would fail at once
    entry = clone / "packages" / "kdgat-train" / "src" / "kdgat_train" / "cli.py"
    entry.write_text('raise SystemExit("edited after submission")\n' + entry.read_text())
    subprocess.run(["scontrol", "release", str(job)], check=True)
    assert wait_for([job]) == {job: "COMPLETED"}, record.log_file().read_text()[-3000:]
    run = RunRecord.read(record.run_dir)
    assert run.status == "COMPLETED" and run.git_commit == commit
    assert run.code_snapshot == str(snapshot)  # recorded only when kdgat-train was imported from the snapshot
    assert "edited after submission" not in (snapshot / "packages/kdgat-train/src/kdgat_train/cli.py").read_text()
    dirty = CliRunner().invoke(main, ["submit", GAT, *FAST, f"runs_root={runs}"])
    assert dirty.exit_code != 0 and "uncommitted changes" in dirty.output and "--allow-dirty" in dirty.output


def test_a_study_runs_trials_as_jobs_survives_a_failed_trial_and_resumes(project, slurm):
    runs = project / "runs_tune"
    common = ["tune", GAT, *FAST, f"runs_root={runs}", "--param", "model_size_config.hidden_dim=int:8:32",
              "--param", "dataset_config.name=categorical:synthetic,missing_set", "--parallel", "2", "--poll", "1",
              "--objective", "val/auroc", "--seed", "0",
              "--enqueue", "model_size_config.hidden_dim=8,dataset_config.name=missing_set",  # fails in its job
              "--enqueue", "model_size_config.hidden_dim=16,dataset_config.name=synthetic"]
    first = _cli(*common, "--trials", "4")  # a 4-trial study, one trial failing
    assert "trial 0: FAILED (job FAILED)" in first and "reproduce the best trial: uv run kdgat-train" in first
    from kdgat_cluster.tune import open_study

    study = open_study(runs, GAT, create=False)
    trials = study.get_trials()
    assert len(trials) == 4 and trials[0].state.name == "FAIL" and trials[1].state.name == "COMPLETE"
    assert all(t.state.is_finished() for t in trials)  # the failed trial did not stop the study
    assert trials[1].params == {"model_size_config.hidden_dim": 16, "dataset_config.name": "synthetic"}
    run = RunRecord.read(trials[1].user_attrs["run_dir"])  # the objective is the run's own validation metric
    assert trials[1].value == run.metrics["val/auroc"] and run.status == "COMPLETED"
    assert yaml_value(trials[1].user_attrs["run_dir"], "model_size_config", "hidden_dim") == 16
    assert len({t.user_attrs["job_id"] for t in trials}) == 4
    second = _cli(*common, "--trials", "5")  # the same study, one more trial; the enqueued ones are not re-run
    resumed = open_study(runs, GAT, create=False).get_trials()
    assert len(resumed) == 5 and [t.user_attrs["job_id"] for t in resumed[:4]] == [t.user_attrs["job_id"] for t in trials]
    assert all(t.state.is_finished() for t in resumed) and "trial 0:" not in second
    status = _cli("tune-status", GAT, "--root", str(runs))
    assert "FAIL" in status and "COMPLETE" in status and "job FAILED" in status and "5 trial(s)" in status


def yaml_value(run_dir, group, field):
    import yaml

    return yaml.safe_load(Path(run_dir, "config.yaml").read_text())[group][field]


def test_sixteen_offline_jobs_and_one_ingest_give_sixteen_finished_mlflow_runs(project, slurm):
    from kdgat_cluster.plan import ResourceRequest, known_datasets, plan_submit
    from kdgat_cluster.profile import load_profile
    from kdgat_cluster.submit import submit_plan

    runs = project / "runs_offline"
    profile = load_profile(project, "local").model_copy(update={"tracking": "offline"})
    catalog = known_datasets(project)
    plan = [job for seed in range(16)
            for job in plan_submit(GAT, [*FAST, "model_size_config.hidden_dim=8", f"training_config.seed={seed}",
                                         f"runs_root={runs}"], profile, ResourceRequest(), catalog)]
    records = submit_plan(plan, project, profile, runs, say=lambda message: None)
    assert not (runs / "mlflow.db").exists()  # offline jobs need no database, so none is made before they start
    states = wait_for([record.job_id for record in records], timeout_s=900)
    assert set(states.values()) == {"COMPLETED"}, states
    assert not (runs / "mlflow.db").exists()  # and no job wrote one
    assert all("tracking=offline" in record.command for record in records)
    from kdgat_train.runs_cli import main as runs_main

    first = CliRunner().invoke(runs_main, ["ingest", str(runs)])
    assert first.exit_code == 0 and "16 ingested, 0 already ingested" in first.output, first.output
    client = _mlflow(runs)
    found = client.search_runs([client.get_experiment_by_name("automotive_synthetic_supervised_gat").experiment_id])
    assert len(found) == 16 and {run.info.status for run in found} == {"FINISHED"}
    assert {run.data.tags["seed"] for run in found} == {str(seed) for seed in range(16)}
    for record in records:
        run_dir = Path(record.run_dir)
        run = client.get_run(RunRecord.read(run_dir).mlflow_run_id)  # run.json now points at its MLflow run
        assert run.data.metrics["test/dos/f1"] == RunRecord.read(run_dir).metrics["test/dos/f1"]
        assert len(client.get_metric_history(run.info.run_id, "val/loss")) == 1  # the one epoch
    second = CliRunner().invoke(runs_main, ["ingest", str(runs)])
    assert "0 ingested, 16 already ingested" in second.output
    assert len(client.search_runs([found[0].info.experiment_id])) == 16


def test_snapshots_prune_keeps_the_newest_and_every_one_a_queued_job_uses(project, slurm, tmp_path):
    runs = tmp_path / "runs"

    def submit_new_commit(number: int, *, hold: bool) -> int:
        (project / "notes").mkdir(exist_ok=True)
        (project / "notes" / f"change_{number}.txt").write_text(f"change {number}\n")
        commit_all(project, f"change {number}")  # another commit: another snapshot
        [job] = _submitted(_cli("submit", *(["--hold"] if hold else []), GAT, *FAST, f"runs_root={runs}")).values()
        return job

    held = [submit_new_commit(1, hold=True), submit_new_commit(2, hold=True)]
    ended = [submit_new_commit(3, hold=True), submit_new_commit(4, hold=True)]
    subprocess.run(["scancel", *map(str, ended)], check=True)
    assert wait_for(ended) == {job: "CANCELLED" for job in ended}
    records = {record.job_id: record for record in read_records(runs)}
    from kdgat_cluster.snapshot_store import snapshot_of

    snapshot = {job: snapshot_of(records[job]) for job in held + ended}
    assert len(set(snapshot.values())) == 4 and all(path.is_dir() for path in snapshot.values())
    listed = _cli("snapshots", "list", "--root", str(runs))
    assert f" {held[0]}" in next(line for line in listed.splitlines() if line.startswith(snapshot[held[0]].name))
    assert "4 snapshot(s)" in listed
    dry = _cli("snapshots", "prune", "--keep", "1", "--dry-run", "--root", str(runs))
    assert f"would remove {snapshot[ended[0]]}" in dry and snapshot[ended[0]].is_dir()
    pruned = _cli("snapshots", "prune", "--keep", "1", "--root", str(runs))
    assert "removed 1 snapshot(s)" in pruned and "2 a queued or running job uses" in pruned
    assert not snapshot[ended[0]].exists()  # old and unused
    assert snapshot[ended[1]].is_dir()  # the newest
    assert all(snapshot[job].is_dir() for job in held)  # older, but held jobs will run them
    subprocess.run(["scancel", *map(str, held)], check=True)
    wait_for(held)
    _cli("snapshots", "prune", "--keep", "1", "--root", str(runs))
    assert [path.name for path in (runs / ".cluster" / "snapshots").iterdir()] == [snapshot[ended[1]].name]
