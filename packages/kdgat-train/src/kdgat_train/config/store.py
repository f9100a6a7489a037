"""The hydra-zen config store: groups of DESIGN.md §5 and presets generated from the grammar.

Groups: ``config_store`` (named presets), ``model_size_config``, ``training_config``,
``dataset_config``, ``distillation_config``, ``evaluation``, ``device``. Every node is built from the real
signature of a settings class (`builds(..., populate_full_signature=True)`); model sizes come
from kdgat-models' packaged sizes (overridden by ``configs/model_sizes.toml``) and datasets from ``configs/datasets.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from hydra_zen import ZenStore, builds
from kdgat_data.catalog import Catalog
from kdgat_schemas import ExperimentName
from kdgat_schemas.project import config_root

from kdgat_train.config.preset_names import (  # DEFAULT_PRESET, PRIMARY, ... are imported from here too
    DEFAULT_PRESET,
    DEVICES,
    NO_VOCABULARY_SUFFIX,
    PIPELINE_EPOCHS,
    PRIMARY,
    _has_vocabulary,
    pipeline_name,
    preset_names,
    size_presets,
    without_vocabulary_sizes,
)
from kdgat_train.config.settings import (
    CurriculumSettings,
    DatasetSettings,
    DeviceSettings,
    DistillationSettings,
    EvaluationSettings,
    FusionSettings,
    TrainingSettings,
    VGAELossSettings,
)
from kdgat_train.families import family_of
from kdgat_train.pipeline.settings import PipelineOptions

_full = {"populate_full_signature": True}
store = ZenStore(name="kdgat", overwrite_ok=True)  # re-registering (tests, several projects) replaces entries


def register(project_root: Path, only_presets: set[str] | None = None) -> list[str]:
    """Fill hydra-zen's store for the project at ``project_root`` and hand it to Hydra; returns the
    name of every preset of the project.

    Args:
        only_presets: register only these presets (and every other group): handing all ~200 presets
            to Hydra costs about half a second, which a command that names its preset need not pay.
            None registers every preset.
    """
    for entry in list(store):  # another project's (or an earlier catalog's) datasets and presets go
        store.delete_entry(entry["group"], entry["name"])
    names: list[str] = []

    def wanted(name: str) -> bool:
        names.append(name)
        return only_presets is None or name in only_presets

    catalog = Catalog.load(config_root(project_root) / "configs" / "datasets.yaml", data_root=project_root)
    sizes = size_presets(project_root)

    store(builds(TrainingSettings, vgae=builds(VGAELossSettings, **_full), curriculum=builds(CurriculumSettings, **_full),
                 fusion=builds(FusionSettings, **_full), **_full), group="training_config", name="default")
    store(builds(EvaluationSettings, **_full), group="evaluation", name="default")
    for mode in ("no", "standard"):
        store(builds(DistillationSettings, mode=mode, **_full), group="distillation_config", name=mode)
    for name, values in DEVICES.items():
        store(builds(DeviceSettings, **values, **_full), group="device", name=name)
    for key in catalog.entries:
        entry = catalog.entries[key]
        defaults = {field: value for field in ("window", "stride") if (value := getattr(entry, field)) is not None}
        store(builds(DatasetSettings, name=key, **defaults, **_full), group="dataset_config", name=key)
    for family, by_size in sizes.items():
        for size, values in by_size.items():
            size_class = family_of(family).size_settings
            size_class.model_validate(values)  # a bad preset fails here, naming the field
            store(builds(size_class, **values, **_full), group="model_size_config", name=f"{family}_{size}")
            if without := without_vocabulary_sizes(family):  # the same size for domains without a fixed vocabulary
                store(builds(size_class, **{**values, **without}, **_full),
                      group="model_size_config", name=f"{family}_{size}{NO_VOCABULARY_SUFFIX}")

    domains = {key: entry.domain for key, entry in catalog.entries.items()}
    without_vocabulary = {key for key, domain in domains.items()  # no fixed entities, or an ID-free entry
                          if not _has_vocabulary(domain) or not catalog.entries[key].entity_ids}
    for key in catalog.entries:
        for name in preset_names({key: domains[key]}, {key: catalog.token_of(key)}):
            if not wanted(name):
                continue
            parsed = ExperimentName.parse(name)
            store(
                {
                    "defaults": [
                        "_self_",
                        {"/model_size_config": f"{parsed.model}_{parsed.size}"
                                               f"{NO_VOCABULARY_SUFFIX if key in without_vocabulary and without_vocabulary_sizes(parsed.model) else ''}"},
                        {"/dataset_config": key},
                        {"/training_config": "default"},
                        {"/distillation_config": parsed.distillation},
                        {"/evaluation": "default"},
                    ],
                    "experiment_name": name,
                },
                group="config_store", name=name, package="_global_",
            )
    model_sizes = {f"{family}_{size}": values for family, by_size in sizes.items() for size, values in by_size.items()}
    model_sizes_without_vocabulary = {name: {**values, **without_vocabulary_sizes(name.split("_")[0])}
                                      for name, values in model_sizes.items()}
    for key in catalog.entries:
        if not wanted(pipeline_name(key, domains[key], catalog.token_of(key))):
            continue
        store(
            {
                "defaults": [{"/dataset_config": key}, {"/training_config": "default"}, {"/distillation_config": "standard"},
                             {"/evaluation": "default"}, "_self_"],
                "experiment_name": pipeline_name(key, domains[key], catalog.token_of(key)),
                "model_sizes": model_sizes_without_vocabulary if key in without_vocabulary else model_sizes,
                "pipeline": builds(PipelineOptions, **_full),
                "training_config": {"epochs": PIPELINE_EPOCHS},
            },
            group="config_store", name=pipeline_name(key, domains[key], catalog.token_of(key)), package="_global_",
        )
    store(
        {
            "defaults": ["_self_", {"config_store": DEFAULT_PRESET}, {"device": "cpu"}],
            "runs_root": str(project_root / "experimentruns"),
            "tracking": "mlflow",
            "resume": None,
            "run_dir": None,
            "hydra": {
                "run": {"dir": "${runs_root}/.hydra/runs/${now:%Y-%m-%d_%H-%M-%S-%f}"},
                "sweep": {"dir": "${runs_root}/.hydra/multirun/${now:%Y-%m-%d_%H-%M-%S-%f}", "subdir": "${hydra.job.num}"},
                "job": {"chdir": False},
                # Lightning prints its own INFO lines; Hydra's console copy would print each twice
                "job_logging": {"handlers": {"console": {"level": "WARNING"}}},
            },
        },
        name=PRIMARY,
    )
    store.add_to_hydra_store(overwrite_ok=True)
    return names
