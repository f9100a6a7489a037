"""How many intra-op threads torch gets: the CPUs this process may really use, not the machine's.

torch defaults to one thread per core of the machine. A Slurm job given 4 of a node's 64 cores, a
container with a 2-CPU quota or a process pinned with ``taskset`` then runs 64 threads on 4 cores,
and an epoch that takes 7 s alone took 48 s beside other work on this project's 2-core VM. The
count here is the smallest of: the CPU affinity mask, the cgroup v2 quota (``cpu.max``) and
``SLURM_CPUS_PER_TASK``; divided by the DDP processes per node; ``device.threads`` overrides it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def cgroup_cpu_limit(path: Path = CGROUP_CPU_MAX) -> int | None:
    """The CPUs a cgroup v2 quota allows (``"<quota> <period>"``, ``max`` = none), at least 1; None without one."""
    try:
        quota, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return max(1, math.floor(int(quota) / int(period)))


def usable_cpus(*, cgroup: Path = CGROUP_CPU_MAX) -> int:
    """CPUs this process may run on: affinity, cgroup quota and Slurm allocation, the smallest."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        count = os.cpu_count() or 1
    limits = [count, cgroup_cpu_limit(cgroup)]
    slurm = os.environ.get("SLURM_CPUS_PER_TASK", "")
    if slurm.isdigit():
        limits.append(int(slurm))
    return max(1, min(limit for limit in limits if limit is not None))


def intra_op_threads(device) -> int:
    """The thread count of ``device`` (`DeviceSettings`): ``device.threads``, else usable CPUs per DDP process."""
    if device.threads is not None:
        return device.threads
    processes = device.devices if device.accelerator == "cpu" else 1
    return max(1, usable_cpus() // processes)


def set_intra_op_threads(device) -> int:
    """Apply `intra_op_threads` to torch; returns the count."""
    threads = intra_op_threads(device)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
