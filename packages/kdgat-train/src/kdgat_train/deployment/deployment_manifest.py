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

from kdgat_data.file_digests import sha256_file
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
    model_digests: dict[str, str] = Field(default_factory=dict, description="sha256 of every model file of the "
                                          "export (file name -> hex digest), checked before the model is loaded")
    entity_ids: bool = Field(True, description="the model reads entity (CAN) IDs, so frames with IDs it never saw "
                             "in training change its input (false for a catalog entry with entity_ids: false)")

    def write(self, folder: Path) -> Path:
        path = Path(folder) / MANIFEST_FILE
        path.write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n")
        return path

    def verify_model_files(self, folder: Path) -> None:
        """Every model file this manifest lists is in ``folder`` with the sha256 recorded at export: a
        changed, truncated or swapped model file (another run's ``model.onnx``) is refused before anything
        loads it. Raises `DeploymentManifestError` naming the file."""
        folder = Path(folder)
        if self.format == "eager":
            return
        if not self.model_digests or self.model_file not in self.model_digests:
            raise DeploymentManifestError(f"{folder / MANIFEST_FILE}: records no sha256 of {self.model_file} (an export "
                                          "made before digests were recorded): export the run again")
        for name, recorded in sorted(self.model_digests.items()):
            path = folder / name
            if not path.is_file():
                raise DeploymentManifestError(f"{path}: missing, though {MANIFEST_FILE} lists it: export the run again")
            actual = sha256_file(path)
            if actual != recorded:
                raise DeploymentManifestError(
                    f"{path}: sha256 {actual[:16]}... differs from {recorded[:16]}... recorded in {MANIFEST_FILE} at "
                    "export: the model file was changed, damaged or replaced since; export the run again")

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
