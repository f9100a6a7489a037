"""The rows of ``kdgat-cluster status``: per job its state, elapsed / limit, run folder, the finished
run's headline metric, and for a failed job the last lines of its log (torch-free: run.json only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kdgat_schemas import RunRecord

from kdgat_cluster.records import JobRecord
from kdgat_cluster.slurm import JobState

FAILED_STATES = {"FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "DEADLINE", "PREEMPTED"}
TERMINAL_STATES = FAILED_STATES | {"COMPLETED", "CANCELLED"}
_TIME_LINE = re.compile(r"^#SBATCH --time=(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class JobStatus:
    """What ``status`` shows for one submitted job."""

    record: JobRecord
    state: str
    elapsed: str
    limit: str
    headline: str
    log_tail: list[str]

    @property
    def finished(self) -> bool:
        return self.state.split("(")[0] in TERMINAL_STATES

    def line(self, config_width: int = 62) -> str:
        return (f"{self.record.job_id:>8}  {self.state:<20} {self.elapsed + ' / ' + self.limit:>21}  "
                f"{self.record.config_name:<{config_width}} {self.headline:<36} {self.record.run_dir}")


def header(config_width: int = 62) -> str:
    return f"{'job':>8}  {'state':<20} {'elapsed / limit':>21}  {'config':<{config_width}} {'headline':<36} run folder"


def job_status(record: JobRecord, state: JobState | None, tail_lines: int = 5) -> JobStatus:
    """The status of one job from Slurm's answer (None: Slurm no longer knows it) and its run folder."""
    label = state.state if state else "UNKNOWN"
    if state and state.state == "PENDING" and state.reason not in ("", "None"):
        label = f"PENDING({state.reason})"
    limit = state.limit if state and state.limit else _script_limit(record)
    failed = label in FAILED_STATES or (label == "COMPLETED" and _run_status(record) == "FAILED")
    return JobStatus(record=record, state=label, elapsed=state.elapsed if state else "-", limit=limit or "-",
                     headline=headline(Path(record.run_dir)) if label == "COMPLETED" else "",
                     log_tail=log_tail(record.log_file(), tail_lines) if failed else [])


def headline(run_dir: Path) -> str:
    """``val F1 0.912 | test F1 0.884 FPR 0.031 (2 scenarios)`` from the run's run.json ('' without metrics)."""
    try:
        metrics = RunRecord.read(run_dir).metrics
    except (OSError, ValueError):
        return "no run.json"
    parts = [f"val F1 {metrics['val/f1']:.3f}"] if "val/f1" in metrics else []
    scenarios = sorted({key.split("/")[1] for key in metrics if key.startswith("test/") and key.endswith("/f1")})
    if scenarios:
        f1 = sum(metrics[f"test/{s}/f1"] for s in scenarios) / len(scenarios)
        fprs = [metrics[f"test/{s}/fpr"] for s in scenarios if f"test/{s}/fpr" in metrics]
        parts.append(f"test F1 {f1:.3f}" + (f" FPR {sum(fprs) / len(fprs):.3f}" if fprs else "")
                     + f" ({len(scenarios)} scenario{'s' if len(scenarios) > 1 else ''})")
    return " | ".join(parts)


def log_tail(log: Path, lines: int) -> list[str]:
    """The last ``lines`` non-empty lines of a job's Slurm log (a note when there is none)."""
    if not log.is_file():
        return [f"(no log at {log})"]
    text = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return text[-lines:]


def _run_status(record: JobRecord) -> str | None:
    try:
        return RunRecord.read(Path(record.run_dir)).status
    except (OSError, ValueError):
        return None


def _script_limit(record: JobRecord) -> str | None:
    """The ``--time`` the job was submitted with, from its sbatch script (Slurm's own answer preferred)."""
    try:
        found = _TIME_LINE.search(Path(record.script).read_text())
    except OSError:
        return None
    return found.group(1) if found else None
