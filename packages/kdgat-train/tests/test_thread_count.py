"""torch's thread count follows the CPUs the process may use (affinity, cgroup quota, Slurm), not the machine's."""

import os
import subprocess
import sys

import pytest
from kdgat_train.config.settings import DeviceSettings
from kdgat_train.thread_count import cgroup_cpu_limit, intra_op_threads, usable_cpus


def test_a_pinned_process_counts_only_its_cpus():
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity on this platform")
    code = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from kdgat_train.thread_count import usable_cpus; print(usable_cpus())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={k: v for k, v in os.environ.items() if k != "SLURM_CPUS_PER_TASK"})
    assert done.stdout.strip() == "1"


def test_a_cgroup_quota_and_a_slurm_allocation_cap_the_count(tmp_path, monkeypatch):
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")
    assert cgroup_cpu_limit(quota) == 1 and usable_cpus(cgroup=quota) == 1
    quota.write_text("max 100000\n")
    assert cgroup_cpu_limit(quota) is None and cgroup_cpu_limit(tmp_path / "absent") is None
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "1")
    assert usable_cpus(cgroup=quota) == 1


def test_ddp_processes_share_the_cpus_and_the_setting_overrides(monkeypatch):
    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)
    cpus = usable_cpus()
    assert intra_op_threads(DeviceSettings()) == cpus
    assert intra_op_threads(DeviceSettings(devices=2)) == max(1, cpus // 2)
    assert intra_op_threads(DeviceSettings(threads=3)) == 3
