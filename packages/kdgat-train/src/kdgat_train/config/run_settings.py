"""`RunSettings`: one whole resolved config, validated, with its experiment name parsed."""

from __future__ import annotations

from typing import Any, Literal

from kdgat_schemas import ExperimentName
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kdgat_train.config.field_use import check_fields_used
from kdgat_train.config.settings import (
    DatasetSettings,
    DeviceSettings,
    DistillationSettings,
    EvaluationSettings,
    TrainingSettings,
    check_one_sampling,
)
from kdgat_train.families import family_of


class SharedRunSettings(BaseModel):
    """What a stage config and a pipeline config share: the groups every stage uses and where runs go."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    experiment_name: str
    training_config: TrainingSettings
    dataset_config: DatasetSettings
    device: DeviceSettings
    distillation_config: DistillationSettings
    evaluation: EvaluationSettings = EvaluationSettings()
    runs_root: str = "experimentruns"
    tracking: Literal["mlflow", "offline"] = Field(
        "mlflow", description="mlflow: log to RUNS_ROOT/mlflow.db as the run goes; offline: into the run folder "
        "only (tracking/), loaded later by `kdgat-runs ingest` (clusters where SQLite on NFS locks)"
    )
    resume: str | None = Field(None, description="run folder to continue from its last.ckpt")
    run_dir: str | None = Field(
        None, description="run folder allocated before the job started (cluster jobs); continued if it holds a run"
    )

    def flat(self) -> dict[str, Any]:
        """``{"training_config.epochs": 20, ...}``: the params logged to MLflow."""
        return _flatten(self.model_dump(mode="json"))


class RunSettings(SharedRunSettings):
    """The validated form of a composed Hydra config (``config.yaml`` of a run)."""

    model_size_config: dict[str, Any]

    @field_validator("experiment_name")
    @classmethod
    def _grammar(cls, value: str) -> str:
        ExperimentName.parse(value)
        return value

    @model_validator(mode="after")
    def _distillation_matches_name(self) -> RunSettings:
        if self.distillation_config.mode != self.name.distillation:
            raise ValueError(
                f"distillation_config.mode={self.distillation_config.mode!r} but the experiment name says "
                f"{self.name.distillation!r}; pick the matching preset instead"
            )
        return self

    @model_validator(mode="after")
    def _one_sampling(self) -> RunSettings:
        check_one_sampling(self.training_config, curriculum=self.name.mode == "curriculum", where=f"on {self.experiment_name}")
        return self

    @property
    def name(self) -> ExperimentName:
        return ExperimentName.parse(self.experiment_name)

    def model_size(self):
        """The model-size settings of the named model family, validated."""
        return family_of(self.name).size_settings.model_validate(self.model_size_config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RunSettings:
        """From a resolved Hydra config (``_target_`` keys dropped); raises a pydantic ValidationError."""
        clean = _drop_targets(config)
        clean.pop("hydra", None)
        settings = cls.model_validate(clean)
        settings.model_size()
        check_fields_used(settings.name, settings.stage_groups(), settings.default_stage_groups())
        return settings

    def stage_groups(self) -> dict[str, Any]:
        """The groups whose fields only some stages use (`kdgat_train.config.field_use`)."""
        return {"training_config": self.training_config, "distillation_config": self.distillation_config}

    def default_stage_groups(self) -> dict[str, Any]:
        return {"training_config": TrainingSettings(),
                "distillation_config": DistillationSettings(mode=self.distillation_config.mode)}


def _drop_targets(value):
    if isinstance(value, dict):
        return {k: _drop_targets(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_drop_targets(v) for v in value]
    return value


def _flatten(value: dict, prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flat.update(_flatten(item, name + "."))
        else:
            flat[name] = item
    return flat
