"""Rendered scripts: sbatch options, srun with requeue signal, every value shell-quoted."""

import shlex

from kdgat_cluster.render import render
from kdgat_schemas import JobResources, JobSpec


def _spec(**changes):
    values = dict(job_name="kdgat-x", command=["kdgat-train", "config_store=automotive_synthetic_pipeline",
                                               "training_config.curriculum.vgae_run=/runs/a b/$HOME|x"],
                  project_root="/p", job_dir="/p/experimentruns/x/run_001/slurm",
                  resources=JobResources(partition="gpu", account="PAS1", time="01:00:00", memory="8G", gpus_per_node=2,
                                         ntasks_per_node=2, cpus_per_task=4),
                  dependencies=[11, 12], modules=["cuda/12.4.1"], environment={"OMP_NUM_THREADS": "4 5"}, venv="/p/.venv")
    return JobSpec(**{**values, **changes})


def test_sbatch_header_has_resources_requeue_and_dependencies():
    script = render(_spec())
    for line in ["#!/bin/bash", "#SBATCH --partition=gpu", "#SBATCH --account=PAS1", "#SBATCH --time=01:00:00",
                 "#SBATCH --mem=8G", "#SBATCH --gpus-per-node=2", "#SBATCH --ntasks-per-node=2",
                 "#SBATCH --signal=SIGUSR1@90", "#SBATCH --requeue", "#SBATCH --dependency=afterok:11:12",
                 "#SBATCH --kill-on-invalid-dep=yes", "#SBATCH --output=/p/experimentruns/x/run_001/slurm/slurm-%j.out",
                 "set -euo pipefail", "module load cuda/12.4.1", "source /p/.venv/bin/activate"]:
        assert line in script.splitlines(), line


def test_every_value_reaches_the_shell_quoted():
    spec = _spec()
    srun = next(line for line in render(spec).splitlines() if line.startswith("srun "))
    assert shlex.split(srun)[1:] == spec.command  # the shell sees exactly the arguments, nothing expanded
    assert "export OMP_NUM_THREADS='4 5'" in render(spec)
