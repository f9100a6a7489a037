"""`BaselineSettings`: the validated config of one baseline run (``{domain}_{dataset}_baseline_{method}``)."""

from __future__ import annotations

from kdgat_schemas import ExperimentName
from pydantic import field_validator

from kdgat_train.config.run_settings import SharedRunSettings


class BaselineSettings(SharedRunSettings):
    """What a baseline uses: the dataset (windows and splits), the seed (``training_config.seed``),
    the threshold rule (``evaluation``) and where runs go; the other groups stay at their defaults."""

    @field_validator("experiment_name")
    @classmethod
    def _is_baseline(cls, value: str) -> str:
        if not ExperimentName.parse(value).is_baseline:
            raise ValueError(f"{value!r} is not a baseline name ({{domain}}_{{dataset}}_baseline_{{method}})")
        return value

    @property
    def name(self) -> ExperimentName:
        return ExperimentName.parse(self.experiment_name)

    @property
    def method(self) -> str:
        return self.name.model
