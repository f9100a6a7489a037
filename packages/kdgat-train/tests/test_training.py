"""End-to-end runs on tiny synthetic data: every preset family, sweeps, replay, failures, resume, concurrency."""

import os
import re
import subprocess
import sys

import pytest
import torch
import yaml
from kdgat_schemas import RunRecord
from kdgat_train.api import train
from mlflow.tracking import MlflowClient

from .conftest import FAST, SHARED_ROAD


def _mlflow_runs(project, experiment):
    client = MlflowClient(f"sqlite:///{project / 'experimentruns' / 'mlflow.db'}")
    found = client.get_experiment_by_name(experiment)
    return client, ([] if found is None else client.search_runs([found.experiment_id]))


@pytest.mark.parametrize("preset", [
    "automotive_synthetic_unsupervised_vgae_student_no_all_samples",
    "automotive_synthetic_unsupervised_vgae_teacher_no_normals_only",
    "automotive_synthetic_supervised_gat_student_no_all_samples",
])
def test_each_preset_family_trains_and_logs(project, preset):
    [run_dir] = train([f"config_store={preset}", *FAST, "model_size_config.hidden_dim=16"], project_root=project)
    record = RunRecord.read(run_dir)
    assert record.status == "COMPLETED" and record.name == preset
    assert "val/loss" in record.metrics and "train/loss" in record.metrics
    assert record.data_manifest_hash and record.versions["torch"] and record.timings["fit_s"] > 0
    timings = record.timings  # the cost the report shows: training windows/s, training and stage seconds
    assert 0 < timings["train_s"] < timings["fit_s"] < timings["stage_wall_s"]
    assert timings["train_windows_per_s"] == pytest.approx(timings["train_windows"] / timings["train_s"])
    assert timings["train_windows"] > 0
    assert (run_dir / "checkpoints" / "last.ckpt").is_file() and (run_dir / "checkpoints" / "best.ckpt").is_file()
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["experiment_name"] == preset and config["model_size_config"]["hidden_dim"] == 16
    assert str(run_dir).startswith(str(project / "experimentruns" / "automotive" / "synthetic"))
    client, runs = _mlflow_runs(project, "_".join(preset.split("_")[:4]))
    run = next(r for r in runs if r.info.run_id == record.mlflow_run_id)
    assert run.info.status == "FINISHED" and run.info.run_name.endswith(f"_run{run_dir.name[4:]}")
    assert run.data.tags["size"] == preset.split("_")[4] and run.data.params["model_size_config.hidden_dim"] == "16"
    assert len(client.get_metric_history(run.info.run_id, "val/loss")) >= 1
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"config.yaml", "run.json", "best.ckpt"}
    assert "Seed set to" in (run_dir / "train.log").read_text()
    assert not (project / "outputs").exists()
    assert "KDGAT_RUN_DIR" not in os.environ and "KDGAT_MLFLOW_RUN_ID" not in os.environ  # no hand-off left behind


def test_three_value_sweep_gives_three_runs(project, tmp_path):
    import shutil

    from click.testing import CliRunner
    from kdgat_train.runs_cli import main

    preset = "automotive_synthetic_supervised_gat_student_no_all_samples"
    run_dirs = train([f"config_store={preset}", *FAST, "model_size_config.hidden_dim=8,12,16"], multirun=True, project_root=project)
    assert len(set(run_dirs)) == 3
    widths = [yaml.safe_load((d / "config.yaml").read_text())["model_size_config"]["hidden_dim"] for d in run_dirs]
    assert sorted(widths) == [8, 12, 16]
    _, runs = _mlflow_runs(project, "automotive_synthetic_supervised_gat")
    ids = {RunRecord.read(d).mlflow_run_id for d in run_dirs}
    assert ids <= {r.info.run_id for r in runs if r.info.status == "FINISHED"}
    for run_dir in run_dirs:  # the sweep alone, as kdgat-runs list shows it
        shutil.copytree(run_dir, tmp_path / run_dir.relative_to(project / "experimentruns"))
    listing = CliRunner().invoke(main, ["list", "--root", str(tmp_path)]).output.splitlines()
    assert listing[0].split()[-1] == "model_size_config.hidden_dim"  # the one setting the runs differ in
    assert sorted(int(line.split()[-1]) for line in listing[1:4]) == [8, 12, 16]


def test_replay_reproduces_the_metrics_exactly(project):
    from click.testing import CliRunner
    from kdgat_train.runs_cli import main

    [run_dir] = train(["config_store=automotive_synthetic_supervised_gat_student_no_all_samples", *FAST,
                       "training_config.epochs=2"], project_root=project)
    result = CliRunner().invoke(main, ["replay", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert '{"identical": true}' in result.output
    listing = CliRunner().invoke(main, ["list", "gat", "--root", str(project / "experimentruns")])
    assert "COMPLETED" in listing.output and "vgae" not in listing.output
    shown = CliRunner().invoke(main, ["show", str(run_dir)])
    assert '"status": "COMPLETED"' in shown.output and "experiment_name:" in shown.output
    ui = CliRunner().invoke(main, ["ui", "--root", str(project / "experimentruns"), "--print-only"])
    assert f"--backend-store-uri sqlite:///{(project / 'experimentruns').resolve()}/mlflow.db --host 127.0.0.1" in ui.output


def test_a_crashing_run_is_marked_failed(project, monkeypatch):
    from kdgat_train.modules.classifier import GraphClassifierModule

    def crash(self, batch, batch_index):
        raise RuntimeError("simulated crash in training_step")

    monkeypatch.setattr(GraphClassifierModule, "training_step", crash)
    before = set((project / "experimentruns").glob("**/run_*"))
    with pytest.raises(Exception, match="simulated crash"):
        train(["config_store=automotive_synthetic_supervised_gat_student_no_all_samples", *FAST], project_root=project)
    [failed] = set((project / "experimentruns").glob("**/run_*")) - before
    record = RunRecord.read(failed)
    assert record.status == "FAILED" and "simulated crash" in record.error
    _, runs = _mlflow_runs(project, "automotive_synthetic_supervised_gat")
    assert any(r.info.run_id == record.mlflow_run_id and r.info.status == "FAILED" for r in runs)


def test_an_unknown_dataset_is_one_line_before_any_run_folder(project, tmp_path):
    with pytest.raises(SystemExit) as stop:
        train(["config_store=automotive_synthetic_supervised_gat_student_no_all_samples", *FAST,
               "dataset_config.name=no_such_dataset", f"runs_root={tmp_path}"], project_root=project)
    assert "dataset 'no_such_dataset' is not in" in str(stop.value.code) and not list(tmp_path.glob("**/run_*"))


def test_a_bad_row_in_a_registered_dataset_is_one_line_naming_file_and_line(tmp_path, monkeypatch):
    """Through kdgat-train, not only kdgat-data: the reader's error, not a Hydra traceback."""
    import shutil

    from .conftest import REPO

    root = tmp_path / "project"
    (root / "configs").mkdir(parents=True)
    shutil.copy(REPO / "configs" / "model_sizes.toml", root / "configs" / "model_sizes.toml")
    (root / "configs" / "datasets.yaml").write_text(
        "datasets:\n  bad:\n    domain: automotive\n    path: data/automotive/bad\n    format: can_train_test\n")
    rows = ["timestamp,arbitration_id,data_field,attack"] + [f"{1700000000 + i / 1000:.6f},{0x100 + i % 7:03X},0011,0"
                                                             for i in range(400)]
    for folder, lines in (("train_01_attack_free", rows[:200] + ["1700000001.0,XYZ,0011,0"] + rows[200:]),
                          ("test_01_dos", rows)):
        (root / "data" / "automotive" / "bad" / folder).mkdir(parents=True)
        (root / "data" / "automotive" / "bad" / folder / "capture.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("KDGAT_PROJECT_ROOT", str(root))
    with pytest.raises(SystemExit) as stop:
        train(["config_store=automotive_bad_unsupervised_vgae_student_no_all_samples", *FAST,
               f"runs_root={tmp_path / 'runs'}"], project_root=root)
    message = str(stop.value.code)
    assert message.startswith("kdgat-train: ") and "train_01_attack_free/capture.csv:201: arbitration_id" in message
    assert "Traceback" not in message
    [run_dir] = list((tmp_path / "runs").glob("**/run_*"))  # the cache is built inside the run: it is FAILED, saying why
    record = RunRecord.read(run_dir)
    assert record.status == "FAILED" and "capture.csv:201" in record.error


def test_relaunching_a_run_resumes_from_last_checkpoint(project):
    preset = "automotive_synthetic_unsupervised_vgae_student_no_all_samples"
    [run_dir] = train([f"config_store={preset}", *FAST, "training_config.patience=0"], project_root=project)
    assert RunRecord.read(run_dir).timings["epochs"] == 1
    [again] = train([f"config_store={preset}", *FAST, "training_config.patience=0", "training_config.epochs=3",
                     f"resume={run_dir}"], project_root=project)
    assert again == run_dir
    record = RunRecord.read(run_dir)
    assert record.status == "COMPLETED" and record.timings["epochs"] == 3  # continued after epoch 1, not restarted


@pytest.mark.slow
def test_four_processes_on_a_fresh_tree_all_record_their_runs(project, tmp_path):
    fresh = tmp_path / "fresh_runs"
    code = (
        "import sys; from kdgat_train.api import train; "
        f"train(['config_store=automotive_synthetic_supervised_gat_student_no_all_samples', 'training_config.epochs=1', "
        f"'training_config.batch_size=64', 'runs_root={fresh}'], project_root='{project}')"
    )
    processes = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
    errors = [p.communicate(timeout=600)[1] for p in processes]
    assert all(p.returncode == 0 for p in processes), errors[0][-2000:]
    run_dirs = sorted(fresh.glob("**/run_*"))
    assert [d.name for d in run_dirs] == ["run_001", "run_002", "run_003", "run_004"]
    client = MlflowClient(f"sqlite:///{fresh / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("automotive_synthetic_supervised_gat")
    assert len([r for r in client.search_runs([experiment.experiment_id]) if r.info.status == "FINISHED"]) == 4


@pytest.mark.real_data
def test_one_run_on_a_real_capture(project):
    if not SHARED_ROAD.is_dir():
        pytest.skip("../shared/data/can/road is absent")
    [run_dir] = train(["config_store=automotive_road_supervised_gat_student_no_all_samples", *FAST], project_root=project)
    record = RunRecord.read(run_dir)
    assert record.status == "COMPLETED" and record.metrics["val/loss"] > 0


def test_a_slurm_requeue_resumes_the_same_run(project, monkeypatch):
    preset = "automotive_synthetic_supervised_gat_student_no_all_samples"
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    [first] = train([f"config_store={preset}", *FAST, "training_config.patience=0"], project_root=project)
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    [requeued] = train([f"config_store={preset}", *FAST, "training_config.patience=0", "training_config.epochs=2"],
                       project_root=project)
    assert requeued == first and RunRecord.read(first).timings["epochs"] == 2


def test_ctrl_c_marks_the_run_killed(project, monkeypatch):
    from kdgat_train.modules.classifier import GraphClassifierModule

    def interrupt(self, batch, batch_index):
        raise KeyboardInterrupt

    monkeypatch.setattr(GraphClassifierModule, "training_step", interrupt)
    with pytest.raises((KeyboardInterrupt, SystemExit)):
        train(["config_store=automotive_synthetic_supervised_gat_student_no_all_samples", *FAST], project_root=project)
    killed = [d for d in (project / "experimentruns").glob("**/run_*") if RunRecord.read(d).status == "KILLED"]
    assert len(killed) == 1
    _, runs = _mlflow_runs(project, "automotive_synthetic_supervised_gat")
    assert any(r.info.run_id == RunRecord.read(killed[0]).mlflow_run_id and r.info.status == "KILLED" for r in runs)


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_records_one_run(project, tmp_path):
    runs = tmp_path / "ddp_runs"
    command = [sys.executable, "-m", "kdgat_train.cli", "config_store=automotive_synthetic_supervised_gat_student_no_all_samples",
               "training_config.epochs=1", "device.devices=2", f"runs_root={runs}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=project)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dirs = sorted(runs.glob("**/run_*"))
    assert [d.name for d in run_dirs] == ["run_001"] and RunRecord.read(run_dirs[0]).status == "COMPLETED"
    client = MlflowClient(f"sqlite:///{runs / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("automotive_synthetic_supervised_gat")
    assert [r.info.status for r in client.search_runs([experiment.experiment_id])] == ["FINISHED"]


def test_every_run_is_evaluated_on_validation_and_each_test_scenario(project, tmp_path, capsys):
    import json

    preset = "automotive_synthetic_unsupervised_vgae_student_no_all_samples"
    [run_dir] = train([f"config_store={preset}", *FAST, f"runs_root={tmp_path}"], project_root=project)
    captured = capsys.readouterr()
    said = captured.out  # a single run ends with its folder and headline numbers
    assert f"{preset}: COMPLETED -> {run_dir}" in said
    # not a terminal: one line per epoch with the validation loss and the time left, no progress bar
    assert re.search(r"student_no_all_samples epoch 1/\d+: val/loss [0-9.]+ .*ETA \d+ s\)", captured.err)
    assert "\r" not in captured.err
    results = json.loads((run_dir / "metrics.json").read_text())
    rule = results.pop("threshold_rule")
    assert rule["configured"] == "f1" and rule["value"] == results["val"]["threshold"]
    assert set(results) == {"val", "test/dos", "test/fuzzing"}
    for metrics in results.values():
        assert {"f1", "precision", "recall", "fpr", "mcc", "balanced_accuracy", "auroc", "auprc",
                "detection_rate_at_1pct_fpr", "detection_rate_at_0.1pct_fpr"} <= set(metrics)
    thresholds = {m["threshold"] for m in results.values()}
    assert len(thresholds) == 1  # chosen once, on validation, reused on every test scenario
    assert (run_dir / "evaluation.png").stat().st_size > 10_000
    from PIL import Image

    assert Image.open(run_dir / "evaluation.png").info["Title"] == f"{preset} {run_dir.name}"  # names its run
    record = RunRecord.read(run_dir)
    assert record.metrics["test/dos/f1"] == results["test/dos"]["f1"]
    # timed from this stage's own start, not from when the (long-lived) process started
    assert 0 < record.timings["start_to_first_step_s"] < record.timings["process_start_to_first_step_s"]
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    logged = client.get_run(record.mlflow_run_id).data.metrics
    assert logged["test/fuzzing/auroc"] == pytest.approx(results["test/fuzzing"]["auroc"])
    assert {a.path for a in client.list_artifacts(record.mlflow_run_id)} >= {"metrics.json", "evaluation.png"}
    # one grammar: the evaluated best checkpoint's validation numbers are the run's val/... everywhere
    assert record.metrics["val/f1"] == results["val"]["f1"] and record.metrics["val/fpr"] == results["val"]["fpr"]
    assert "test/fuzzing" in said and f"auroc {results['test/fuzzing']['auroc']:.3f}" in said
    assert logged["val/f1"] == pytest.approx(results["val"]["f1"])  # MLflow's latest value is the evaluated one
    best = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=False)
    score = next(state for key, state in best["callbacks"].items() if key.startswith("ModelCheckpoint"))["best_model_score"]
    assert record.metrics["val/loss"] == pytest.approx(float(score))
    from click.testing import CliRunner
    from kdgat_train.runs_cli import main

    listing = CliRunner().invoke(main, ["list", "--root", str(tmp_path)]).output
    assert f"{results['val']['f1']:.4f}" in listing and f"{results['val']['fpr']:.4f}" in listing
    broken = tmp_path / "automotive" / "synthetic" / "supervised" / "gat" / "student" / "no" / "all_samples" / "run_999"
    broken.mkdir(parents=True)
    (broken / "run.json").write_text('{"status": "COMPLETED", "trunc')  # a crash mid-copy, a disk full
    listed = CliRunner().invoke(main, ["list", "--root", str(tmp_path)])
    assert listed.exit_code == 0 and f"{results['val']['f1']:.4f}" in listed.output  # the others still show
    assert f"warning: skipping {broken / 'run.json'}: not a readable run record" in listed.output


def test_sigterm_marks_the_run_killed_and_exits_143(project, monkeypatch):
    """Slurm's scancel and a shell's kill send SIGTERM: the run is KILLED and the process must not
    exit 0 (Lightning raises a SystemExit without a code)."""
    import signal

    from kdgat_train.modules.classifier import GraphClassifierModule

    original = GraphClassifierModule.training_step

    def terminate(self, batch, batch_index):
        os.kill(os.getpid(), signal.SIGTERM)  # Lightning's handler notes it; the loop stops at its next check
        return original(self, batch, batch_index)

    monkeypatch.setattr(GraphClassifierModule, "training_step", terminate)
    before = set((project / "experimentruns").glob("**/run_*"))
    with pytest.raises(SystemExit) as stop:
        train(["config_store=automotive_synthetic_supervised_gat_student_no_all_samples", *FAST,
               "training_config.epochs=3"], project_root=project)
    assert stop.value.code == 143
    [run_dir] = set((project / "experimentruns").glob("**/run_*")) - before
    assert RunRecord.read(run_dir).status == "KILLED"


@pytest.mark.parametrize("preset", ["automotive_missingset_unsupervised_vgae_student_no_all_samples",
                                    "automotive_missingset_pipeline"])
def test_a_dataset_not_on_this_machine_is_one_line_and_leaves_no_run(project, tmp_path, preset):
    with pytest.raises(SystemExit) as stop:
        train([f"config_store={preset}", *FAST, f"runs_root={tmp_path}"], project_root=project)
    message = str(stop.value.code)
    assert message.startswith("kdgat-train: dataset 'missing_set' (configs/datasets.yaml): its folder ")
    assert "data/automotive/missing_set does not exist" in message and "\n" not in message
    assert not list(tmp_path.glob("**/run_*"))


def test_ctrl_c_in_a_pipeline_stage_kills_stage_and_pipeline_and_exits_130(project, monkeypatch, tmp_path):
    """Lightning turns Ctrl-C into SystemExit(1) after its graceful shutdown; the pipeline must see the
    interrupt (KILLED, not FAILED) and the command exit 130 like any interrupted program."""
    from kdgat_train.modules.autoencoder import AutoencoderModule

    def interrupt(self, batch, batch_index):
        raise KeyboardInterrupt

    monkeypatch.setattr(AutoencoderModule, "training_step", interrupt)
    with pytest.raises(SystemExit) as stop:
        train(["config_store=automotive_synthetic_pipeline", *FAST, f"runs_root={tmp_path}"], project_root=project)
    assert stop.value.code == 130
    statuses = {d.relative_to(tmp_path).parts[2]: RunRecord.read(d).status for d in tmp_path.glob("**/run_*")}
    assert statuses == {"unsupervised": "KILLED", "pipeline": "KILLED"}  # the first stage and the pipeline itself


def test_replay_in_snapshot_runs_the_code_the_job_ran(project, tmp_path):
    import shutil

    from click.testing import CliRunner
    from kdgat_train.runs_cli import main

    from .conftest import REPO

    [run_dir] = train(["config_store=automotive_synthetic_supervised_gat_student_no_all_samples", *FAST,
                       "model_size_config.hidden_dim=8"], project_root=project)
    # a code snapshot as kdgat-cluster leaves it: the packages' sources and the configs of the submission
    snapshot = tmp_path / "snapshot"
    for source in (REPO / "packages").glob("*/src"):
        shutil.copytree(source, snapshot / "packages" / source.parent.name / "src",
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(project / "configs", snapshot / "configs")
    (snapshot / "snapshot.json").write_text('{"commit": "abc123"}\n')
    record = RunRecord.read(run_dir)
    record.model_copy(update={"code_snapshot": str(snapshot)}).write(run_dir)  # as if a job had run it
    result = CliRunner().invoke(main, ["replay", "--in-snapshot", str(run_dir)])
    assert result.exit_code == 0, result.output
    replayed = sorted(run_dir.parent.glob("run_*"))[-1]
    assert replayed != run_dir and RunRecord.read(replayed).code_snapshot == str(snapshot)  # imported from it
    local = tmp_path / "local_run"
    shutil.copytree(run_dir, local)
    record.model_copy(update={"code_snapshot": None}).write(local)  # a run that no job ran
    missing = CliRunner().invoke(main, ["replay", "--in-snapshot", str(local)])
    assert missing.exit_code != 0 and "records no code_snapshot" in missing.output


def test_a_full_disk_is_one_line_saying_how_to_continue_and_the_run_is_failed(project, tmp_path):
    """A real full device (a 300 KiB tmpfs, which needs root): the checkpoint does not fit. torch reports it
    as ``unexpected pos`` from its zip writer, not ENOSPC; kdgat-train says it in one line."""
    import os
    import subprocess

    tiny = tmp_path / "tiny"
    tiny.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(tiny)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        with pytest.raises(SystemExit) as stop:
            train(["config_store=automotive_synthetic_supervised_gat_student_no_all_samples", *FAST,
                   f"runs_root={tiny / 'runs'}", "tracking=offline"], project_root=project)
        message = str(stop.value.code)
        [run_dir] = list((tiny / "runs").glob("**/run_001"))
        assert message.startswith(f"kdgat-train: no space left on the device of {run_dir / 'checkpoints'} (")
        assert f"continue with resume={run_dir}" in message and "\n" not in message
        assert RunRecord.read(run_dir).status == "FAILED"
        assert not list((run_dir / "checkpoints").glob(".*tmp*"))  # the failed write is not left behind
    finally:
        subprocess.run(["umount", "--lazy", str(tiny)], check=False)  # a log handler may still hold a file there
