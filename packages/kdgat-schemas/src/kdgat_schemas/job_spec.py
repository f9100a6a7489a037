"""`JobSpec`: one Slurm job of kdgat, as kdgat-cluster renders it into a plain sbatch script.

Every user-supplied value is validated here before it can reach a script: ``#SBATCH`` values must
be plain tokens, and command arguments (preset names, overrides) must not carry shell syntax
(``;``, ``$(``, backticks, newlines) or ``..`` path segments. They are also shell-quoted when
rendered, so this is a second wall, not the only one.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_TOKEN = re.compile(r"^[A-Za-z0-9_.:@+/=,-]+$")
_TIME = re.compile(r"^(\d+-)?\d{1,3}(:\d{2}){0,2}$")
_MEMORY = re.compile(r"^\d+[KMGT]?$")
_HOSTILE = (";", "$(", "`", "\n", "\r", "\x00")
_PARENT_SEGMENT = re.compile(r"(^|[/=\\\\])\.\.($|[/\\\\])")


class UnsafeValueError(ValueError):
    """A value that could change the meaning of a job script."""


def check_safe_argument(field: str, value: str) -> str:
    """Refuse ``value`` (named ``field``) if it carries shell syntax or a ``..`` path segment."""
    for marker in _HOSTILE:
        if marker in value:
            shown = {"\n": "a newline", "\r": "a carriage return", "\x00": "a NUL byte"}.get(marker, repr(marker))
            raise UnsafeValueError(f"{field}: {value!r} contains {shown}; names and overrides may not carry shell syntax")
    if _PARENT_SEGMENT.search(value):
        raise UnsafeValueError(f"{field}: {value!r} contains a '..' path segment; give paths without '..'")
    return value


def check_token(field: str, value: str) -> str:
    """Refuse anything but a plain token (letters, digits and ``_ . : @ + / = , -``) for an ``#SBATCH`` line."""
    check_safe_argument(field, value)
    if not _TOKEN.match(value):
        raise UnsafeValueError(f"{field}: {value!r} must be a plain token (letters, digits, _ . : @ + / = , -)")
    return value


class JobResources(BaseModel):
    """What a job asks Slurm for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partition: str | None = None
    account: str | None = None
    time: str | None = Field(None, description="time limit: MM, HH:MM:SS or D-HH:MM:SS")
    memory: str | None = Field(None, description="memory per node, e.g. 16G")
    cpus_per_task: int = Field(1, ge=1)
    gpus_per_node: int = Field(0, ge=0)
    nodes: int = Field(1, ge=1)
    ntasks_per_node: int = Field(1, ge=1, description="one task per device: srun launches the DDP ranks")

    @field_validator("partition", "account")
    @classmethod
    def _plain(cls, value: str | None, info) -> str | None:
        return None if value is None else check_token(info.field_name, value)

    @field_validator("time")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None and not _TIME.match(value):
            raise ValueError(f"time {value!r}: expected MM, HH:MM:SS or D-HH:MM:SS")
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not _MEMORY.match(value):
            raise ValueError(f"memory {value!r}: expected a number with an optional K/M/G/T suffix, e.g. 16G")
        return value


class JobSpec(BaseModel):
    """One job: what runs (``command`` under srun), where its script and log live, what it needs.

    Example:
        ``command = ["kdgat-train", "config_store=automotive_synthetic_supervised_gat_student_no_all_samples",
        "training_config.epochs=1", "run_dir=/.../run_004"]``
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_name: str
    command: list[str] = Field(min_length=1)
    project_root: str
    job_dir: str = Field(description="folder of the job's script and Slurm log (inside the run tree)")
    resources: JobResources = JobResources()
    dependencies: list[int] = Field(default_factory=list, description="job ids that must finish OK first (afterok)")
    requeue: bool = True
    signal: str = Field("SIGUSR1@90", description="sent before the time limit so Lightning checkpoints and requeues")
    modules: list[str] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    venv: str | None = Field(None, description="virtual environment to activate (its bin/activate is sourced)")
    hold: bool = Field(False, description="submit held: the job waits until `scontrol release JOB_ID`")

    @field_validator("job_name", "signal")
    @classmethod
    def _plain(cls, value: str, info) -> str:
        return check_token(info.field_name, value)

    @field_validator("command")
    @classmethod
    def _command(cls, value: list[str]) -> list[str]:
        for index, argument in enumerate(value):
            check_safe_argument(f"command[{index}]", argument)
        return value

    @field_validator("project_root", "job_dir", "venv")
    @classmethod
    def _path(cls, value: str | None, info) -> str | None:
        if value is None:
            return None
        check_safe_argument(info.field_name, value)
        if any(c.isspace() for c in value):
            raise UnsafeValueError(f"{info.field_name}: {value!r} contains whitespace, which #SBATCH lines cannot carry")
        return value

    @field_validator("modules")
    @classmethod
    def _modules(cls, value: list[str]) -> list[str]:
        return [check_token("modules", module) for module in value]

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        for key, item in value.items():
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise UnsafeValueError(f"environment: {key!r} is not a variable name")
            check_safe_argument(f"environment.{key}", item)
        return value
