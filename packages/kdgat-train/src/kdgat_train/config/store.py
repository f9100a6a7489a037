"""The hydra-zen config store: groups of DESIGN.md §5 and presets generated from the grammar.

Groups: ``config_store`` (named presets), ``model_size_config``, ``training_config``,
``dataset_config``, ``distillation_config``, ``evaluation``, ``device``. Every node is built from the real
signature of a settings class (`builds(..., populate_full_signature=True)`); model sizes come
from kdgat-models' packaged sizes (overridden by ``configs/model_sizes.toml``) and datasets from ``configs/datasets.yaml``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from hydra_zen import ZenStore, builds
from kdgat_schemas import ExperimentName, dataset_token
from kdgat_schemas.project import config_root
from kdgat_train.config.settings import (
    SIZE_CLASSES,
    DatasetSettings,
    DeviceSettings,
    DistillationSettings,
    EvaluationSettings,
    TrainingSettings,
)
from kdgat_train.pipeline.settings import PipelineOptions

PRIMARY = "kdgat"
DEFAULT_PRESET = "automotive_synthetic_pipeline"
# (learning, model, mode) of every stage preset
STAGE_VARIANTS = [
    ("unsupervised", "vgae", "all_samples"),
    ("unsupervised", "vgae", "normals_only"),
    ("supervised", "gat", "all_samples"),
    ("supervised", "gat", "curriculum"),
    ("fusion", "dqn", "all_samples"),
]
PIPELINE_EPOCHS = 10  # per stage in a pipeline preset (early stopping may end a stage sooner)
DEVICES = {
    "cpu": {"accelerator": "cpu", "precision": "32-true"},
    "cuda": {"accelerator": "gpu", "precision": "bf16-mixed"},
    "auto": {"accelerator": "auto", "precision": "32-true"},
}
_full = {"populate_full_signature": True}
store = ZenStore(name="kdgat", overwrite_ok=True)  # re-registering (tests, several projects) replaces entries


def preset_names(catalog_domains: dict[str, str], tokens: dict[str, str] | None = None) -> list[str]:
    """Every preset name for the catalog's datasets (key -> domain); KD (standard) for students only."""
    names = []
    for key, domain in catalog_domains.items():
        for learning, model, mode in STAGE_VARIANTS:
            for size, distillation in (("teacher", "no"), ("student", "no"), ("student", "standard")):
                names.append(
                    ExperimentName(
                        domain=domain, dataset=(tokens or {}).get(key) or dataset_token(key), learning=learning, model=model,
                        size=size, distillation=distillation, mode=mode,
                    ).format()
                )
    return names


# domains whose entities (hosts) have no fixed vocabulary: no ID embedding, no VGAE ID decoders
NO_VOCABULARY = {"gat": {"id_embedding_dim": 0}, "vgae": {"id_embedding_dim": 0, "decode_ids": False}}
NO_VOCABULARY_SUFFIX = "_no_vocabulary"


def _has_vocabulary(domain: str) -> bool:
    from kdgat_data.domains import adapter_for

    try:
        return getattr(adapter_for(domain), "has_vocabulary", True)
    except NotImplementedError:
        return True


def pipeline_name(catalog_key: str, domain: str, token: str | None = None) -> str:
    return ExperimentName(domain=domain, dataset=token or dataset_token(catalog_key)).format()


def size_presets(project_root: Path) -> dict[str, dict[str, dict]]:
    """The model sizes kdgat-models ships, each ``[family.size]`` table of the project's
    ``configs/model_sizes.toml`` (if any) replacing the packaged one. Read without importing
    kdgat-models (and so torch): the packaged file is found through the package's location."""
    from importlib.util import find_spec

    [package_folder] = find_spec("kdgat_models").submodule_search_locations
    sizes = tomllib.loads((Path(package_folder) / "model_sizes.toml").read_text())
    project_file = config_root(project_root) / "configs" / "model_sizes.toml"
    if project_file.is_file():
        for family, by_size in tomllib.loads(project_file.read_text()).items():
            sizes.setdefault(family, {}).update(by_size)
    return sizes


def register(project_root: Path) -> None:
    """Fill hydra-zen's store for the project at ``project_root`` and hand it to Hydra."""
    from kdgat_data.catalog import Catalog

    catalog = Catalog.load(config_root(project_root) / "configs" / "datasets.yaml", data_root=project_root)
    sizes = size_presets(project_root)

    store(builds(TrainingSettings, **_full), group="training_config", name="default")
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
            SIZE_CLASSES[family].model_validate(values)  # a bad preset fails here, naming the field
            store(builds(SIZE_CLASSES[family], **values, **_full), group="model_size_config", name=f"{family}_{size}")
            if family in NO_VOCABULARY:  # the same size for domains whose entities have no fixed vocabulary
                store(builds(SIZE_CLASSES[family], **{**values, **NO_VOCABULARY[family]}, **_full),
                      group="model_size_config", name=f"{family}_{size}{NO_VOCABULARY_SUFFIX}")

    domains = {key: entry.domain for key, entry in catalog.entries.items()}
    without_vocabulary = {key for key, domain in domains.items() if not _has_vocabulary(domain)}
    for key in catalog.entries:
        for name in preset_names({key: domains[key]}, {key: catalog.token_of(key)}):
            parsed = ExperimentName.parse(name)
            store(
                {
                    "defaults": [
                        "_self_",
                        {"/model_size_config": f"{parsed.model}_{parsed.size}"
                                               f"{NO_VOCABULARY_SUFFIX if key in without_vocabulary and parsed.model in NO_VOCABULARY else ''}"},
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
    model_sizes_without_vocabulary = {name: {**values, **NO_VOCABULARY.get(name.split("_")[0], {})}
                                      for name, values in model_sizes.items()}
    for key in catalog.entries:
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
