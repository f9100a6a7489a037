"""Is the process of a RUNNING run still there? A run killed with ``kill -9`` (or a node that died)
never records its end; its run.json and MLflow run would say RUNNING forever.

run.json records the host, PID and process start time of rank 0 (and the Slurm job id); a RUNNING
run whose process is gone is *stale*: `kdgat-runs list` shows it as STALE and `kdgat-runs reconcile`
marks it FAILED, here and in MLflow.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from enum import StrEnum
from pathlib import Path

from kdgat_schemas import RunRecord


class Liveness(StrEnum):
    ALIVE = "alive"
    GONE = "gone"
    UNKNOWN = "unknown"  # another machine and no Slurm job to ask about, or a record from before host/PID


def process_start(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (field 22 of /proc/PID/stat), None off Linux."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # the command name may hold spaces and parentheses


def this_process() -> dict[str, object]:
    """``host``, ``pid`` and ``process_start`` of the calling process, for run.json."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "process_start": process_start(pid)}


def _pid_alive(pid: int, started: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    return started is None or process_start(pid) in (None, started)


def _slurm_job_alive(job_id: str) -> Liveness:
    if shutil.which("squeue") is None:
        return Liveness.UNKNOWN
    try:
        result = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return Liveness.UNKNOWN
    if result.returncode == 0:
        return Liveness.ALIVE if result.stdout.strip() else Liveness.GONE
    return Liveness.GONE if "invalid job id" in result.stderr.lower() else Liveness.UNKNOWN


def liveness(record: RunRecord) -> Liveness:
    """Whether the process of a RUNNING ``record`` still runs (ALIVE for any other status)."""
    if record.status != "RUNNING":
        return Liveness.ALIVE
    if record.host == socket.gethostname() and record.pid:
        return Liveness.ALIVE if _pid_alive(record.pid, record.process_start) else Liveness.GONE
    if record.slurm_job_id:
        return _slurm_job_alive(record.slurm_job_id)
    return Liveness.UNKNOWN


def shown_status(record: RunRecord) -> str:
    """The status `kdgat-runs list` prints: STALE for a RUNNING run whose process is gone."""
    return "STALE" if record.status == "RUNNING" and liveness(record) is Liveness.GONE else record.status
