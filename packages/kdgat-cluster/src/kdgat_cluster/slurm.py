"""The Slurm commands kdgat-cluster uses (sbatch, squeue, sacct, scancel), with clear errors.

Arguments are passed as argument lists, never through a shell.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


class SlurmError(RuntimeError):
    """A Slurm command failed; the message carries the command and Slurm's own words."""


def _run(arguments: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess:
    if shutil.which(arguments[0]) is None:
        raise SlurmError(f"{arguments[0]} not found: run on a machine with the Slurm client (a login node)")
    return subprocess.run(arguments, capture_output=True, text=True, timeout=timeout)


def require_slurm(commands: tuple[str, ...] = ("sbatch", "squeue")) -> None:
    """Fail at once, before anything is prepared, where the Slurm client is not installed."""
    missing = [command for command in commands if shutil.which(command) is None]
    if missing:
        raise SlurmError(f"{', '.join(missing)} not found: run on a machine with the Slurm client (a login node); "
                         "--dry-run prints the scripts anywhere")


def sbatch(script: Path) -> int:
    """Submit ``script``; returns the job id."""
    done = _run(["sbatch", "--parsable", str(script)])
    if done.returncode != 0:
        raise SlurmError(f"sbatch {script} failed: {done.stderr.strip() or done.stdout.strip()}")
    return int(done.stdout.strip().split(";")[0])


@dataclass(frozen=True)
class JobState:
    job_id: int
    state: str
    elapsed: str
    reason: str = ""
    limit: str = ""


def squeue(job_ids: list[int]) -> dict[int, JobState]:
    """Queued, running and recently finished jobs among ``job_ids`` (squeue -t all)."""
    if not job_ids:
        return {}
    done = _run(["squeue", "-h", "-t", "all", "-j", ",".join(map(str, job_ids)), "-o", "%i|%T|%M|%r|%l"])
    states = {}
    for line in done.stdout.splitlines():
        parts = line.split("|")
        if len(parts) == 5 and parts[0].isdigit():
            states[int(parts[0])] = JobState(int(parts[0]), parts[1], parts[2], parts[3], parts[4])
    return states


def queue_states() -> dict[int, str]:
    """``{job id: state}`` of every job Slurm's queue holds now (array tasks under their job's id); raises
    `SlurmError` when Slurm does not answer (never an empty answer that looks like "none")."""
    done = _run(["squeue", "-h", "-t", "all", "-o", "%i|%T"])
    if done.returncode != 0:
        raise SlurmError(f"squeue failed: {done.stderr.strip() or done.stdout.strip()}")
    return {int(job.split("_")[0]): state for job, _, state in (line.partition("|") for line in done.stdout.splitlines())
            if job.split("_")[0].isdigit()}


def sacct(job_ids: list[int]) -> dict[int, JobState]:
    """Finished jobs from accounting; falls back to ``sacct -c`` (job completion log) where accounting is off."""
    if not job_ids:
        return {}
    columns = ["-X", "-n", "--parsable2", "-o", "JobID,State,Elapsed", "-j", ",".join(map(str, job_ids))]
    done = _run(["sacct", *columns])
    if done.returncode != 0 or "accounting storage is disabled" in done.stderr:
        done = _run(["sacct", "-c", "-n", "--parsable2", "-o", "JobID,State,Elapsed", "-j", ",".join(map(str, job_ids))])
    states = {}
    for line in done.stdout.splitlines():
        parts = line.split("|")
        if len(parts) >= 3 and parts[0].isdigit() and int(parts[0]) in job_ids:
            states[int(parts[0])] = JobState(int(parts[0]), parts[1].split()[0], parts[2])
    return states


def scancel(job_ids: list[int]) -> None:
    done = _run(["scancel", *map(str, job_ids)])
    if done.returncode != 0:
        raise SlurmError(f"scancel {' '.join(map(str, job_ids))} failed: {done.stderr.strip()}")
