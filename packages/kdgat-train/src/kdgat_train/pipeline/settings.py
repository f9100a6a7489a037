"""`PipelineSettings`: the validated config of a ``{domain}_{dataset}_pipeline`` run (no torch here).

A pipeline config carries what every stage shares (training, dataset, device, KD settings) and the
model sizes of every family and size (``model_sizes.gat_student.hidden_dim=32`` changes one of them),
plus the pipeline's own options.
"""

from __future__ import annotations

from typing import Any, Literal

from kdgat_schemas import BASELINES, ExperimentName
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kdgat_train.baselines.baseline_methods import DEFAULT_BASELINES, GENERIC_BASELINES
from kdgat_train.config.run_settings import SharedRunSettings
from kdgat_train.config.settings import check_one_sampling
from kdgat_train.families import FAMILIES


class PipelineOptions(BaseModel):
    """Options of the pipeline itself (the ``pipeline`` node of a pipeline preset)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vgae_mode: Literal["all_samples", "normals_only"] = Field(
        "normals_only", description="VGAE stages train on normal windows only (true anomaly detection) or on all"
    )
    gat_mode: Literal["all_samples", "curriculum"] = Field(
        "all_samples", description="GAT stages train on all windows or with the VGAE-guided curriculum"
    )
    force: bool = Field(False, description="retrain every stage even when an identical completed run exists")
    baselines: list[str] | None = Field(
        None, description="baseline stages beside the graph models (gbdt, timing, pca, iforest); default: the domain's "
        "(automotive: gbdt, timing, iforest; internet: gbdt, iforest; watertreatment: gbdt, pca, iforest); [] for none"
    )
    seeds: list[int] | None = Field(
        None, description="run the whole pipeline once per seed (training_config.seed=S for every stage and baseline, "
        "completed ones reused per seed), then `kdgat-runs report` over them: mean and 95 % interval per cell and paired "
        "tests; default: one run with training_config.seed"
    )
    jobs: int = Field(
        1, ge=1, description="train independent stages, seeds and baselines as this many local processes, each with "
        "its share of the cores (1: one stage after another); the run folders, MLflow runs and tables are the same"
    )
    supervised: Literal["auto", "force"] = Field(
        "auto", description="auto: when the training split has fewer than pipeline.min_attack_windows attack windows, "
        "leave out the stages that learn from labels (GAT, DQN fusion, gbdt) and say so; force: train them anyway, "
        "their rows marked"
    )
    min_attack_windows: int = Field(
        1, ge=1, description="fewest attack windows in the training split for the stages that learn from labels "
        "(1: leave them out only when training holds no attack; raise it to demand more)"
    )
    only: str | None = Field(
        None, description="run just this stage (a key such as gat_student_standard); the stages it needs must have "
        "completed with identical configs (the cluster runs a pipeline as one job per stage this way)"
    )

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("expected a non-empty list of distinct seeds such as [0,1,2]")
        return value

    @field_validator("baselines")
    @classmethod
    def _known_baselines(cls, value: list[str] | None) -> list[str] | None:
        for method in value or []:
            if method not in BASELINES:
                raise ValueError(f"pipeline.baselines: {method!r} is not a baseline; expected some of {', '.join(BASELINES)}")
        return value


class PipelineSettings(SharedRunSettings):
    """The validated form of a composed pipeline config (``config.yaml`` of a pipeline run).

    ``run_dir``: the pipeline run's folder, or with ``pipeline.only`` that stage's run folder.
    """

    model_sizes: dict[str, dict[str, Any]]
    pipeline: PipelineOptions = PipelineOptions()

    @field_validator("experiment_name")
    @classmethod
    def _is_pipeline(cls, value: str) -> str:
        if not ExperimentName.parse(value).is_pipeline:
            raise ValueError(f"{value!r} is a stage name, not {{domain}}_{{dataset}}_pipeline")
        return value

    @field_validator("model_sizes")
    @classmethod
    def _sizes(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for family, model in FAMILIES.items():
            size_class = model.size_settings
            for size in ("teacher", "student"):
                key = f"{family}_{size}"
                if key not in value:
                    raise ValueError(f"model_sizes.{key} is missing (configs/model_sizes.toml [{family}.{size}])")
                size_class.model_validate(value[key])
        return value

    @model_validator(mode="after")
    def _one_sampling(self) -> PipelineSettings:
        check_one_sampling(self.training_config, curriculum=self.pipeline.gat_mode == "curriculum",
                           where="with pipeline.gat_mode=curriculum")
        return self

    @property
    def name(self) -> ExperimentName:
        return ExperimentName.parse(self.experiment_name)

    def baseline_methods(self) -> list[str]:
        """``pipeline.baselines``, or the domain's default baselines."""
        chosen = self.pipeline.baselines
        return list(DEFAULT_BASELINES.get(self.name.domain, GENERIC_BASELINES)) if chosen is None else list(chosen)


def one_seed(settings: PipelineSettings, seed: int, *, last: bool) -> PipelineSettings:
    """The one-seed pipeline of ``settings`` for ``seed``: what ``training_config.seed=S`` alone gives,
    so a seed's stages are reused by a later one-seed run of the same seed, and the other way round.
    A given ``run_dir`` (a cluster job's folder) is the last seed's; the others get their own."""
    return settings.model_copy(update={"training_config": settings.training_config.model_copy(update={"seed": seed}),
                                       "pipeline": settings.pipeline.model_copy(update={"seeds": None}),
                                       "run_dir": settings.run_dir if last else None})
