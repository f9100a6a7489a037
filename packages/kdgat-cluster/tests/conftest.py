"""A tiny kdgat project for the cluster tests, and the local Slurm they submit to (skipped when absent)."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TINY_CATALOG = """
datasets:
  synthetic:
    domain: automotive
    path: data/automotive/synthetic
    format: can_train_test
    synthetic: {seed: 3, frames: 4000, attacks: [dos, fuzzing]}
  parked:  # trains on attack-free traffic only (test_cli writes it)
    domain: automotive
    path: data/automotive/parked
    format: can_train_test
  missing_set:  # on the cluster only: a job that reads it fails (a failed tune trial)
    domain: automotive
    path: data/automotive/missing_set
"""
LOCAL_PROFILE = """
time = "00:20:00"
memory = "2G"
cpus_per_task = 1
venv = "%s"

[environment]
OMP_NUM_THREADS = "1"
"""
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"}


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """A project root with configs/ (catalog, model sizes, cluster profiles); KDGAT_PROJECT_ROOT points at it."""
    root = tmp_path_factory.mktemp("cluster_project")
    (root / "configs" / "cluster").mkdir(parents=True)
    (root / "configs" / "datasets.yaml").write_text(TINY_CATALOG)
    shutil.copy(REPO / "configs" / "model_sizes.toml", root / "configs" / "model_sizes.toml")
    shutil.copy(REPO / "configs" / "cluster" / "osc.toml", root / "configs" / "cluster" / "osc.toml")
    (root / "configs" / "cluster" / "local.toml").write_text(LOCAL_PROFILE % (REPO / ".venv"))
    commit_all(root)  # jobs run the committed code (kdgat-cluster freezes it at submission)
    mp = pytest.MonkeyPatch()
    mp.setenv("KDGAT_PROJECT_ROOT", str(root))
    mp.setenv("KDGAT_CLUSTER_PROFILE", "local")
    yield root
    mp.undo()


GITIGNORE = "runs*/\ndata/\nexperimentruns/\n__pycache__/\n"


def commit_all(root: Path, message: str = "test project") -> str:
    """``git init`` (once) and commit everything in ``root`` (run folders and data ignored); the commit."""
    git = ["git", "-C", str(root), "-c", "user.email=tests@kdgat", "-c", "user.name=kdgat tests"]
    if not (root / ".git").exists():
        subprocess.run([*git, "init", "-q"], check=True)
    gitignore = root / ".gitignore"
    if not gitignore.is_file() or GITIGNORE not in gitignore.read_text():
        gitignore.write_text((gitignore.read_text() if gitignore.is_file() else "") + GITIGNORE)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def _slurm_up() -> bool:
    if shutil.which("sbatch") is None or not (os.environ.get("SLURM_CONF") or Path("/etc/slurm/slurm.conf").exists()):
        return False
    return subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30).returncode == 0


@pytest.fixture(scope="session")
def slurm():
    """Skip unless a Slurm controller answers (.ci/run starts one with tools/slurm-local-up.sh)."""
    if not _slurm_up():
        pytest.skip("no running Slurm (start one: tools/slurm-local-up.sh, then export SLURM_CONF)")
    from kdgat_cluster import slurm as commands

    return commands


def job_state(job_id: int) -> str:
    done = subprocess.run(["squeue", "-h", "-t", "all", "-j", str(job_id), "-o", "%T"], capture_output=True, text=True)
    state = done.stdout.strip()
    if state:
        return state
    done = subprocess.run(["sacct", "-c", "-n", "--parsable2", "-o", "JobID,State", "-j", str(job_id)],
                          capture_output=True, text=True)
    for line in done.stdout.splitlines():
        job, _, state = line.partition("|")
        if job == str(job_id):
            return state.split()[0]
    return "UNKNOWN"


def wait_for(job_ids: list[int], timeout_s: float = 600) -> dict[int, str]:
    """Wait until every job is in a terminal state; returns their states."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = {job: job_state(job) for job in job_ids}
        if all(state in TERMINAL for state in states.values()) or time.monotonic() > deadline:
            return states
        time.sleep(1)
