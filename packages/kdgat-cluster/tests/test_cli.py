"""The command line: dry runs print every script and create nothing; hostile input never reaches a script."""

import subprocess
import sys

import pytest
from click.testing import CliRunner
from kdgat_cluster.cli import main

GAT = "automotive_synthetic_supervised_gat_student_no_all_samples"


def test_dry_run_prints_every_pipeline_script_and_creates_nothing(project):
    result = CliRunner().invoke(main, ["pipeline", "synthetic", "--dry-run", "training_config.epochs=1"])
    assert result.exit_code == 0, result.output
    assert result.output.count("#!/bin/bash") == 12
    assert result.output.count("srun kdgat-train config_store=automotive_synthetic_pipeline") == 12
    assert "--dependency=afterok:1000001" in result.output  # the students wait for the teachers
    assert not (project / "experimentruns").exists()


def test_a_pipeline_on_a_training_split_without_attacks_plans_no_job_that_learns_from_labels(project, tmp_path):
    """The plan reads the training split (kdgat-runs check-jobs) and leaves out the GAT, fusion and gbdt jobs."""
    import shutil

    generated = tmp_path / "generated"
    subprocess.run(["kdgat-data", "synth", str(generated), "--frames", "2000", "--attacks", "dos"], check=True,
                   capture_output=True)
    shutil.rmtree(generated / "train_02_with_attacks")
    shutil.copytree(generated, project / "data" / "automotive" / "parked", dirs_exist_ok=True)
    result = CliRunner().invoke(main, ["pipeline", "parked", "--dry-run", "dataset_config.window=50",
                                       "dataset_config.stride=50"])
    assert result.exit_code == 0, result.output
    assert ("left out: gat_teacher_no, gat_student_no, gat_student_standard, mlp_student_no, mlp_student_standard, "
            "dqn_teacher_no") in result.output
    assert "the training split has 0 attack windows" in result.output
    jobs = [line.split(":")[0].removeprefix("# ---- ") for line in result.output.splitlines() if line.startswith("# ---- ")]
    assert jobs == ["vgae_teacher_no", "vgae_student_no", "vgae_student_standard", "comparison_table"]
    assert "afterok:1000001" in result.output  # the students still wait for their teacher
    assert not (project / "experimentruns").exists()


@pytest.mark.parametrize("arguments", [
    ["submit", GAT + ";touch /tmp/kdgat-pwned"],
    ["submit", GAT, "training_config.epochs=1$(touch /tmp/kdgat-pwned)"],
    ["submit", GAT, "training_config.epochs=`touch /tmp/kdgat-pwned`"],
    ["submit", GAT, "training_config.epochs=1\ntouch /tmp/kdgat-pwned"],
    ["submit", GAT, "runs_root=../../tmp"],
    ["sweep", "--datasets", "synthetic;id", "--model", "gat"],
    ["pipeline", "synthetic", "--partition", "debug;id"],
])
def test_hostile_input_is_refused_before_any_script(project, arguments):
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code != 0
    assert "Error:" in result.output and "Traceback" not in result.output
    assert not (project / "experimentruns").exists()


def test_alias_and_no_heavy_imports():
    code = ("import sys; from kdgat_cluster.cli import main; "
            "print(sorted(m for m in ('torch', 'mlflow', 'lightning', 'yaml', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    alias = subprocess.run(["oscjobmanager", "--help"], capture_output=True, text=True)
    assert alias.returncode == 0 and "pipeline" in alias.stdout


def test_submit_without_slurm_says_so_at_once_and_creates_nothing(project, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch, no squeue (and no kdgat-runs) on this machine
    result = CliRunner().invoke(main, ["submit", GAT, "training_config.epochs=1"])
    assert result.exit_code != 0 and "sbatch, squeue not found" in result.output and "--dry-run" in result.output
    assert not (project / "experimentruns").exists()  # refused before the MLflow database set-up, not after it


def test_the_root_oscjobmanager_script_runs_the_cluster_cli(project):
    from pathlib import Path

    script = Path(__file__).resolve().parents[3] / "oscjobmanager.py"
    done = subprocess.run([sys.executable, str(script), "submit", GAT, "--dry-run"], capture_output=True, text=True,
                          cwd=project)
    assert done.returncode == 0, done.stderr
    assert "#!/bin/bash" in done.stdout and f"srun kdgat-train config_store={GAT}" in done.stdout


@pytest.mark.parametrize(("override", "expected"), [
    ("training_config.epochs=abc", "training_config.epochs"),
    ("training_config.nosuchfield=1", "nosuchfield"),
])
def test_a_bad_override_is_refused_before_any_script_or_job(project, override, expected):
    for arguments in (["submit", GAT, override, "--dry-run"], ["submit", GAT, override]):
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code != 0, result.output
        assert "invalid configuration, nothing submitted" in result.output and expected in result.output
        assert GAT.split("_")[-4] in result.output  # names the job
        assert "#!/bin/bash" not in result.output and "Traceback" not in result.output
    assert not (project / "experimentruns").exists()


def test_a_dataset_missing_here_is_a_warning_not_an_error(project, tmp_path, monkeypatch):
    import shutil as shell

    other = tmp_path / "project"
    shell.copytree(project / "configs", other / "configs")
    with (other / "configs" / "datasets.yaml").open("a") as catalog:
        catalog.write("  faraway:\n    domain: automotive\n    path: data/automotive/faraway\n")
    monkeypatch.setenv("KDGAT_PROJECT_ROOT", str(other))
    monkeypatch.chdir(other)
    name = "automotive_faraway_supervised_gat_student_no_all_samples"
    result = CliRunner().invoke(main, ["submit", name, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "data/automotive/faraway" in result.output
    assert f"srun kdgat-train config_store={name}" in result.output


def test_each_job_kind_asks_for_what_it_uses(project):
    """The osc profile: threads follow each job's CPUs, cuda loads only where GPUs are requested, and the
    table-and-report job asks for a CPU partition, no GPU and little memory."""
    result = CliRunner().invoke(main, ["pipeline", "synthetic", "--dry-run", "--profile", "osc"])
    assert result.exit_code == 0, result.output
    scripts = {chunk.split(":", 1)[0].strip(): chunk for chunk in result.output.split("# ---- ")[1:]}
    teacher, dqn, table = scripts["gat_teacher_no"], scripts["dqn_student_no"], scripts["comparison_table"]
    assert "--cpus-per-task=8" in teacher and "export OMP_NUM_THREADS=8" in teacher
    assert "--gpus-per-node=1" in teacher and "module load cuda/12.4.1" in teacher
    assert "--cpus-per-task=4" in dqn and "export OMP_NUM_THREADS=4" in dqn
    assert "module load" not in dqn and "--gpus-per-node" not in dqn and "--partition=cpu" in dqn
    assert "--partition=cpu" in table and "--mem=8G" in table and "--gpus-per-node" not in table
    assert "export OMP_NUM_THREADS=1" in table and "module load" not in table


def test_the_root_script_typed_with_a_python_that_lacks_the_project_runs_in_its_environment(project):
    """``python oscjobmanager.py ...`` outside ``uv run`` (here: a Python started without site-packages,
    where kdgat_cluster cannot be imported) re-runs itself with the project's .venv."""
    from pathlib import Path

    script = Path(__file__).resolve().parents[3] / "oscjobmanager.py"
    bare = subprocess.run([sys.executable, "-S", "-c", "import kdgat_cluster"], capture_output=True, text=True)
    assert bare.returncode != 0 and "ModuleNotFoundError" in bare.stderr  # the situation of the report
    done = subprocess.run([sys.executable, "-S", str(script), "submit", GAT, "--dry-run"], capture_output=True,
                          text=True, cwd=project)
    assert done.returncode == 0, done.stderr
    assert f"srun kdgat-train config_store={GAT}" in done.stdout
