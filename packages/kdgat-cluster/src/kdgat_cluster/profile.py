"""Cluster profiles (``configs/cluster/<name>.toml``): where and how jobs run on one cluster.

TOML rather than YAML so that this package needs nothing beyond pydantic and click (``tomllib``
is in the standard library); ``configs/model_sizes.toml`` uses the same format.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from kdgat_schemas.job_spec import JobResources, check_safe_argument, check_token
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PROFILE_FOLDER = Path("configs") / "cluster"


class ProfileError(ValueError):
    """A profile that is missing or invalid; the message names the file and the field."""


class StageResources(BaseModel):
    """Resource overrides for some stages (all optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time: str | None = None
    memory: str | None = None
    cpus_per_task: int | None = Field(None, ge=1)
    gpus: int | None = Field(None, ge=0)
    partition: str | None = None


class ClusterProfile(BaseModel):
    """One cluster: account, partition, default resources, software set-up, per-stage overrides.

    ``stages`` keys are ``{model}_{size}`` (``gat_teacher``), ``{model}`` (``vgae``) or ``{size}``
    (``teacher``); the most specific match wins. Jobs run in their code snapshot's own environment
    (``snapshot_environment = "sync"``), else ``venv`` is activated (relative to the project root
    unless absolute); ``modules`` are loaded with ``module load`` (``gpu_modules`` too in jobs with GPUs);
    ``environment`` is exported, with ``OMP_NUM_THREADS`` set to each job's CPUs per task. A ``report``
    stage key sets the resources of a pipeline's last job (the comparison tables and the report). Every
    value reaches the job script validated and shell-quoted.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: str | None = None
    partition: str | None = None
    time: str = "02:00:00"
    memory: str | None = "16G"
    cpus_per_task: int = Field(4, ge=1)
    gpus: int = Field(0, ge=0, description="GPUs per node; > 0 trains with device=cuda, > 1 with DDP over them")
    nodes: int = Field(1, ge=1)
    modules: list[str] = Field(default_factory=list)
    gpu_modules: list[str] = Field(default_factory=list, description="loaded only by jobs that request GPUs (cuda)")
    environment: dict[str, str] = Field(default_factory=dict, description="exported in every job; OMP_NUM_THREADS "
                                        "is always the job's --cpus-per-task")
    venv: str | None = ".venv"
    snapshot_environment: Literal["sync", "profile"] = Field(
        "sync", description="sync: each code snapshot gets its own .venv synced from its committed uv.lock "
        "(offline from uv's cache when it can) and jobs run in it; profile: jobs run in `venv` with the snapshot's "
        "sources on PYTHONPATH (also what a snapshot without a uv.lock gets)"
    )
    tracking: Literal["mlflow", "offline"] = Field(
        "mlflow", description="offline: jobs write their tracking data into their run folders (tracking=offline) "
        "and `kdgat-runs ingest` loads it into MLflow later, for clusters where SQLite on NFS locks"
    )
    stages: dict[str, StageResources] = Field(default_factory=dict)

    @field_validator("account", "partition")
    @classmethod
    def _plain(cls, value: str | None, info) -> str | None:
        return None if value is None else check_token(info.field_name, value)

    @field_validator("venv")
    @classmethod
    def _venv(cls, value: str | None) -> str | None:
        return None if value is None else check_safe_argument("venv", value)

    @model_validator(mode="after")
    def _every_stage_gives_valid_resources(self) -> ClusterProfile:
        self.resources()
        for key in self.stages:
            self.resources(*key.split("_", 1)) if "_" in key else self.resources(key, key)
        return self

    def resources(self, model: str | None = None, size: str | None = None, gpus: int | None = None,
                  time: str | None = None, memory: str | None = None, cpus: int | None = None,
                  partition: str | None = None, ntasks_per_node: int | None = None) -> JobResources:
        """The resources of a job: profile defaults < stage overrides < explicit arguments."""
        values = {"partition": self.partition, "time": self.time, "memory": self.memory,
                  "cpus_per_task": self.cpus_per_task, "gpus": self.gpus}
        for key in (size, model, f"{model}_{size}" if model and size else None):
            if key and key in self.stages:
                values.update({k: v for k, v in self.stages[key].model_dump().items() if v is not None})
        explicit = {"gpus": gpus, "time": time, "memory": memory, "cpus_per_task": cpus, "partition": partition}
        values.update({k: v for k, v in explicit.items() if v is not None})
        devices = max(values["gpus"], 1)
        return JobResources(
            partition=values["partition"], account=self.account, time=values["time"], memory=values["memory"],
            cpus_per_task=values["cpus_per_task"], gpus_per_node=values["gpus"], nodes=self.nodes,
            ntasks_per_node=ntasks_per_node or devices,
        )


def load_profile(project_root: Path, name: str) -> ClusterProfile:
    """``configs/cluster/<name>.toml`` of the project, validated; errors name the file and field."""
    check_token("profile", name)
    path = project_root / PROFILE_FOLDER / f"{name}.toml"
    if not path.is_file():
        available = sorted(p.stem for p in (project_root / PROFILE_FOLDER).glob("*.toml"))
        raise ProfileError(f"{path}: no such profile; available: {', '.join(available) or 'none'}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{path}: {error}") from None
    try:
        return ClusterProfile.model_validate(data)
    except ValidationError as error:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})" for e in error.errors()]
        raise ProfileError(f"{path}: invalid profile:\n" + "\n".join(lines)) from None
    except ValueError as error:
        raise ProfileError(f"{path}: {error}") from None
