"""`DeploymentManifest`: what an exported model needs beside it to run without the project tree.

Written as ``detector.json`` next to ``model.onnx`` / ``model.pt``: the family, the window graph
settings (W, S, feature version, vocabulary and the rest of the domain fit on the training split),
the reader options of the run's dataset, the threshold the run chose on its validation split, and
the parity check the export passed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MANIFEST_FILE = "detector.json"


class DeploymentManifestError(ValueError):
    """A ``detector.json`` that is missing or does not describe an export (named, with the field)."""


class DeploymentManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str = Field(description="gat | vgae | dqn")
    experiment_name: str
    run_dir: str = Field(description="the run exported (for the record; not needed to run)")
    format: str = Field(description="onnx | torchscript | aoti | eager")
    model_file: str = Field(description="model file name, beside this manifest")
    domain: str
    dataset: str
    window: int = Field(ge=2)
    stride: int = Field(ge=1)
    feature_version: str
    vocabulary: list[int] = Field(description="raw entity IDs of indices 1.. (0 = UNK)")
    fitted_state: dict[str, Any] = Field(default_factory=dict, description="the rest of the domain fit (training split)")
    reader_options: dict[str, Any] | None = Field(None, description="how the dataset's files are read (CAN)")
    threshold: float = Field(description="attack when score > threshold (chosen on validation)")
    threshold_rule: str
    parity_windows: int = Field(description="validation windows the export was checked on")
    parity_max_abs_difference: float = Field(description="largest |exported - eager| score over them")
    parity_tolerance: float = Field(description="the largest allowed (1e-4; for fusion plus one step of its CDF)")

    def write(self, folder: Path) -> Path:
        path = Path(folder) / MANIFEST_FILE
        path.write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, folder: Path) -> DeploymentManifest:
        path = Path(folder) / MANIFEST_FILE
        if not path.is_file():
            raise DeploymentManifestError(f"{folder}: no {MANIFEST_FILE} (not an export of kdgat-models export)")
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (json.JSONDecodeError, ValidationError) as error:
            first = str(error).splitlines()
            raise DeploymentManifestError(f"{path}: {' '.join(first[:3])[:300]}") from None
