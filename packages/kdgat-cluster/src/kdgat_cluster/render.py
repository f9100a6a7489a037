"""Render a `JobSpec` as a plain sbatch script.

``#SBATCH`` lines carry only validated plain tokens; every other user-supplied value (preset
name, overrides, paths, modules, environment) is shell-quoted with `shlex.quote`. Training runs
under ``srun`` so that multi-GPU and multi-node jobs are Lightning DDP with one task per device,
and ``--signal=SIGUSR1@90`` with ``--requeue`` lets Lightning checkpoint and requeue before the
time limit (the relaunched job resumes from ``last.ckpt``).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from kdgat_schemas import JobSpec

LOG_NAME = "slurm-%j.out"


def script_path(spec: JobSpec) -> Path:
    return Path(spec.job_dir) / f"{spec.job_name}.sbatch"


def log_pattern(spec: JobSpec) -> Path:
    return Path(spec.job_dir) / LOG_NAME


def render(spec: JobSpec) -> str:
    """The sbatch script of ``spec``."""
    r = spec.resources
    sbatch = [f"--job-name={spec.job_name}", f"--output={log_pattern(spec)}", "--open-mode=append",
              f"--nodes={r.nodes}", f"--ntasks-per-node={r.ntasks_per_node}", f"--cpus-per-task={r.cpus_per_task}"]
    sbatch += [f"--partition={r.partition}"] if r.partition else []
    sbatch += [f"--account={r.account}"] if r.account else []
    sbatch += [f"--time={r.time}"] if r.time else []
    sbatch += [f"--mem={r.memory}"] if r.memory else []
    sbatch += [f"--gpus-per-node={r.gpus_per_node}"] if r.gpus_per_node else []
    sbatch += [f"--signal={spec.signal}"] + (["--requeue"] if spec.requeue else ["--no-requeue"])
    sbatch += ["--hold"] if spec.hold else []
    if spec.dependencies:
        sbatch += ["--dependency=afterok:" + ":".join(str(job) for job in spec.dependencies), "--kill-on-invalid-dep=yes"]
    lines = ["#!/bin/bash", *(f"#SBATCH {option}" for option in sbatch), "",
             "# rendered by kdgat-cluster; runs the same command as a local run, under srun",
             "set -euo pipefail", f"cd {shlex.quote(spec.project_root)}"]
    lines += [f"module load {shlex.quote(module)}" for module in spec.modules]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(spec.environment.items())]
    if spec.venv:
        lines.append(f"source {shlex.quote(str(Path(spec.venv) / 'bin' / 'activate'))}")
    lines += [f"export KDGAT_PROJECT_ROOT={shlex.quote(spec.project_root)}",
              'echo "kdgat job $SLURM_JOB_ID (restart ${SLURM_RESTART_COUNT:-0}) on $(hostname) at $(date -Is)"',
              "srun " + " ".join(shlex.quote(argument) for argument in spec.command), ""]
    return "\n".join(lines)
