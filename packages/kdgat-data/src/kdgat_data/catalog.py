"""The dataset catalog (``configs/datasets.yaml``): dataset key -> domain, folder, reader options.

Relative paths are relative to the project root, the folder holding ``configs/``. A dataset with
a ``synthetic`` section is generated on first use when its folder is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kdgat_schemas import DOMAINS, CatalogFileError, catalog_index, dataset_token, read_catalog_entries
from kdgat_schemas.project import (
    CATALOG_RELATIVE_PATH,
    ROOT_ENVIRONMENT_VARIABLE,
    config_root,
    find_project_root,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kdgat_data.domains.automotive.readers.column_mapping import ColumnMapping
from kdgat_data.domains.automotive.readers.file_reader import FileReader
from kdgat_data.readers.bad_row_policy import OnBadRow


class SyntheticSpec(BaseModel):
    """Arguments of the synthetic generator for a generated dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    frames: int = Field(60_000, gt=0, description="frames (CAN) or time steps (plant) of the attack-free training capture")
    attacks: list[str] | None = None
    vehicle: int = Field(0, ge=0, description="which synthetic car (its CAN IDs and message layout; CAN only): a "
                         "second vehicle for cross-dataset evaluation has other IDs than vehicle 0")


class SensorColumns(BaseModel):
    """How a plant CSV labels its rows (watertreatment datasets; BATADAL and SWaT defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timestamp_column: str | None = Field(None, description="default: the first column")
    label_column: str | None = Field(None, description="default: ATT_FLAG, Normal/Attack, label, Label or attack")
    attack_values: list[str] = Field(["1", "Attack", "A ttack"], description="label values meaning attack")
    normal_values: list[str] = Field(["0", "-999", "Normal"], description="label values meaning normal")
    attack_windows: str | None = Field(None, description="CSV of start,end attack windows overriding the row flags "
                                                         "(relative to the dataset folder)")


class FlowSettings(BaseModel):
    """How flows are labelled and windowed (internet datasets); label values are case-insensitive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    normal_values: list[str] = Field(["benign", "normal"])
    attack_values: list[str] = Field(["malicious", "attack"], description="'*': every other value is an attack")
    background_values: list[str] = Field(["background"])
    background: Literal["ignore", "normal"] = Field("ignore", description="background flows: dropped, or normal")
    window_seconds: float | None = Field(None, gt=0, description="windows of T seconds instead of W flows")
    stride_seconds: float | None = Field(None, gt=0, description="seconds between window starts (default: T)")


class DatasetEntry(BaseModel):
    """One catalog entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str = Field("automotive", description="automotive | internet | watertreatment, or a registered domain")
    path: str
    description: str = ""
    format: str | None = Field(None, description="reader format; detected per file when absent")
    mapping: ColumnMapping | None = None
    attack_ids: list[int | str] | None = Field(None, description="label rule for unlabelled logs (hex IDs)")
    time_order: Literal["sort", "error"] = Field(
        "sort", description="CAN frames out of time order: sorted stably with a logged count, or an error naming "
                            "the file line (automotive)")
    readers: list[FileReader] | None = Field(
        None, description="per-file-pattern format / mapping for a dataset that mixes formats (automotive); "
                          "the first matching entry reads a file, others use format / mapping above")
    train: list[str] | None = Field(None, description="glob patterns of training files (else discovered)")
    test: dict[str, list[str]] | None = Field(None, description="scenario -> glob patterns (else discovered)")
    validation: list[str] | None = Field(None, description="glob patterns of whole validation files (never trained on)")
    validation_fractions: dict[str, float] | None = Field(
        None, description="glob pattern -> validation tail fraction of the training files it matches "
                          "(others: the run's dataset_config.validation_fraction); 0 = no tail")
    validation_block: Literal["tail", "head"] = Field(
        "tail", description="where each training file's validation block lies: its tail, or its head (for captures "
                            "whose attacks sit at their end, so that thresholds read held-out normal traffic)")
    synthetic: SyntheticSpec | None = None
    token: str | None = Field(None, description="dataset token in experiment names (default: the key without "
                                                "underscores); lets two domains both have e.g. a 'synthetic' dataset")
    sensors: SensorColumns | None = Field(None, description="plant CSV label settings (watertreatment)")
    flows: FlowSettings | None = Field(None, description="flow labels and time windows (internet)")
    entity_ids: bool = Field(
        True, description="false: ID-free models (no entity embedding, no ID or neighbourhood decoders; the "
                          "nodes are still one per entity, described by their role features), so a model trained "
                          "here can be tested on a vehicle whose IDs it never saw")
    window: int | None = Field(None, ge=2, description="default window W for this dataset (else 100)")
    stride: int | None = Field(None, ge=1, description="default stride S for this dataset (else 100)")

    @field_validator("validation_fractions")
    @classmethod
    def _fractions_in_range(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for pattern, fraction in (value or {}).items():
            if not 0.0 <= fraction < 1.0:
                raise ValueError(f"fraction of {pattern!r} must be in [0, 1), got {fraction}")
        return value

    @model_validator(mode="after")
    def _readers_are_automotive(self) -> DatasetEntry:
        if self.readers and self.domain != "automotive":
            raise ValueError(f"readers: per-file CAN reader settings apply to automotive datasets, not {self.domain}")
        return self

    @field_validator("domain", mode="before")
    @classmethod
    def _known_domain(cls, value: str) -> str:
        if value not in DOMAINS:
            raise ValueError(f"unknown domain {value!r}; expected one of {', '.join(DOMAINS)}")
        return value

    def reader_options(self, on_bad_row: OnBadRow = OnBadRow.ERROR, root: Path | None = None):
        """The options of this entry's reader, made by its domain's adapter (`ReaderOptions` for CAN,
        `SensorCsvOptions` for plant data, `FlowOptions` for flows, whatever a registered domain reads)."""
        from kdgat_data.domains.base import adapter_for

        return adapter_for(self.domain).reader_options(self, on_bad_row, root)


@dataclass(frozen=True)
class Dataset:
    """A dataset resolved to a folder on disk."""

    name: str
    domain: str
    root: Path
    entry: DatasetEntry

    @property
    def token(self) -> str:
        """The dataset token of experiment names (``hcrl_ch`` -> ``hcrlch``, or the entry's ``token``)."""
        return self.entry.token or dataset_token(self.name)


class CatalogError(ValueError):
    """A catalog file that does not parse, or a dataset that is not in it."""


class Catalog:
    """The parsed catalog plus the project root its relative paths refer to."""

    def __init__(self, entries: dict[str, DatasetEntry], root: Path, source: Path | None = None) -> None:
        self.entries = entries
        self.root = root
        self.source = source

    @classmethod
    def load(cls, path: str | Path | None = None, *, data_root: Path | None = None) -> Catalog:
        """Read ``path``, or ``configs/datasets.yaml`` of the project root found from the cwd (of
        ``$KDGAT_CONFIG_ROOT`` when set; relative dataset paths stay the project root's). ``data_root``:
        what relative dataset paths are relative to (default: the folder holding ``configs/``)."""
        if path is None:
            root = find_project_root()
            if root is None:
                raise CatalogError(
                    f"no {CATALOG_RELATIVE_PATH} in {Path.cwd()} or any parent folder; run from the kdgat "
                    f"project or set {ROOT_ENVIRONMENT_VARIABLE}"
                )
            data_root = root
            path = config_root(root) / CATALOG_RELATIVE_PATH
        path = Path(path).resolve()
        try:
            raw_entries = read_catalog_entries(path)
            catalog_index(path, raw_entries)  # known domains, valid and distinct tokens
        except CatalogFileError as error:
            raise CatalogError(str(error)) from None
        entries = {}
        for key, value in raw_entries.items():
            try:
                entries[key] = DatasetEntry.model_validate(value)
            except ValidationError as error:
                problems = "; ".join(
                    f"datasets.{key}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
                )
                raise CatalogError(f"{path}: {problems}") from None
        return cls(entries, data_root or path.parent.parent, path)

    def token_of(self, key: str) -> str:
        """The dataset token of catalog entry ``key`` in experiment names."""
        return self.entries[key].token or dataset_token(key)

    def get(self, name: str) -> Dataset:
        if name not in self.entries:
            raise CatalogError(
                f"dataset {name!r} is not in {self.source}; known: {', '.join(sorted(self.entries))}"
            )
        entry = self.entries[name]
        root = Path(entry.path)
        return Dataset(name, entry.domain, root if root.is_absolute() else self.root / root, entry)


def resolve_dataset(name_or_path: str, catalog_path: str | Path | None = None) -> Dataset:
    """A catalog key, or a file/folder path: the catalog entry whose folder it is (so inspect and build
    use the entry's readers, splits and cache, the ones training uses), else read with detected formats."""
    path = Path(name_or_path)
    if path.exists() and (os.sep in name_or_path or path.suffix or not _in_catalog(name_or_path, catalog_path)):
        entry = _entry_at(path, catalog_path)
        if entry is not None:
            return entry
        name = path.stem if path.is_file() else path.resolve().name
        domain = detect_domain(path)
        return Dataset(name.lower().replace("-", "_"), domain, path, DatasetEntry(path=str(path), domain=domain))
    if (os.sep in name_or_path or path.suffix) and not _in_catalog(name_or_path, catalog_path):
        raise FileNotFoundError(f"{name_or_path}: no such file or folder (and not a dataset key in the catalog)")
    return Catalog.load(catalog_path).get(name_or_path)


def _entry_at(path: Path, catalog_path: str | Path | None) -> Dataset | None:
    """The catalog dataset whose folder is ``path`` (None when no entry points there)."""
    try:
        catalog = Catalog.load(catalog_path)
    except CatalogError:
        return None
    target = path.resolve()
    return next((catalog.get(key) for key in sorted(catalog.entries) if catalog.get(key).root.resolve() == target), None)


def _in_catalog(name: str, catalog_path: str | Path | None) -> bool:
    try:
        return name in Catalog.load(catalog_path).entries
    except CatalogError:
        return False


def detect_domain(path: Path) -> str:
    """The domain of a file or folder not in the catalog, from the header of its first capture files:
    plant CSVs (ATT_FLAG or Normal/Attack column) are watertreatment, flow logs (Zeek, IoT-23, CIC)
    internet, anything else automotive."""
    from kdgat_data.layout import capture_files

    files = [path] if path.is_file() else capture_files(path)
    for file in files[:3]:
        from kdgat_data.readers.text import first_line

        try:
            header = first_line(file)
        except (OSError, ValueError):  # unreadable or a broken gzip: the reader names it later
            continue
        columns = {c.strip() for c in header.split(",")}
        if columns & {"ATT_FLAG", "Normal/Attack"}:
            return "watertreatment"
        from kdgat_data.domains.internet.flow_readers import flow_format

        if flow_format(file) is not None:
            return "internet"
    return "automotive"
