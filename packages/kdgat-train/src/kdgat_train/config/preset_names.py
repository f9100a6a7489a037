"""The names of the config store, computed without Hydra or hydra-zen: preset names from the
grammar and the dataset catalog, model sizes, devices. `store.register` builds its nodes from
these; ``kdgat-train --help`` and ``--list-presets`` print them without importing Hydra.
"""

from __future__ import annotations

import tomllib
from importlib.util import find_spec
from pathlib import Path

from kdgat_data.catalog import Catalog
from kdgat_schemas import DOMAIN_HAS_VOCABULARY, ExperimentName, dataset_token
from kdgat_schemas.project import config_root

from kdgat_train.families import FAMILIES

PRIMARY = "kdgat"
DEFAULT_PRESET = "automotive_synthetic_pipeline"
PIPELINE_EPOCHS = 10  # per stage in a pipeline preset (early stopping may end a stage sooner)
DEVICES = {
    "cpu": {"accelerator": "cpu", "precision": "32-true"},
    "cuda": {"accelerator": "gpu", "precision": "bf16-mixed"},
    "auto": {"accelerator": "auto", "precision": "32-true"},
}


def stage_variants() -> list[tuple[str, str, str]]:
    """(learning, model, mode) of every stage preset, from the registered families."""
    return [(family.learning, family.token, mode) for family in FAMILIES.values() for mode in family.modes]


def preset_names(catalog_domains: dict[str, str], tokens: dict[str, str] | None = None) -> list[str]:
    """Every preset name for the catalog's datasets (key -> domain); KD (standard) for students only."""
    names = []
    for key, domain in catalog_domains.items():
        for learning, model, mode in stage_variants():
            for size, distillation in (("teacher", "no"), ("student", "no"), ("student", "standard")):
                names.append(
                    ExperimentName(
                        domain=domain, dataset=(tokens or {}).get(key) or dataset_token(key), learning=learning, model=model,
                        size=size, distillation=distillation, mode=mode,
                    ).format()
                )
    return names


# domains whose entities (hosts) have no fixed vocabulary use each family's ``without_vocabulary``
# sizes (no ID embedding, no VGAE ID decoders) under this suffix
NO_VOCABULARY_SUFFIX = "_no_vocabulary"


def _has_vocabulary(domain: str) -> bool:
    """Declared in kdgat-schemas, so registering the presets imports no domain adapter (and no numpy)."""
    return DOMAIN_HAS_VOCABULARY.get(domain, True)


def without_vocabulary_sizes(family: str) -> dict:
    """The size values of ``family`` (a ``model_sizes.toml`` table) without a fixed vocabulary ({}: none)."""
    return FAMILIES[family].without_vocabulary if family in FAMILIES else {}


def pipeline_name(catalog_key: str, domain: str, token: str | None = None) -> str:
    return ExperimentName(domain=domain, dataset=token or dataset_token(catalog_key)).format()


def size_presets(project_root: Path) -> dict[str, dict[str, dict]]:
    """The model sizes kdgat-models ships (and those of families registered from outside), each
    ``[family.size]`` table of the project's ``configs/model_sizes.toml`` (if any) replacing the packaged one. Read without importing
    kdgat-models (and so torch): the packaged file is found through the package's location."""
    [package_folder] = find_spec("kdgat_models").submodule_search_locations
    sizes = tomllib.loads((Path(package_folder) / "model_sizes.toml").read_text())
    for token, family in FAMILIES.items():  # a family registered from outside brings its own sizes
        if family.default_sizes and token not in sizes:
            sizes[token] = {size: dict(values) for size, values in family.default_sizes.items()}
    project_file = config_root(project_root) / "configs" / "model_sizes.toml"
    if project_file.is_file():
        for family, by_size in tomllib.loads(project_file.read_text()).items():
            sizes.setdefault(family, {}).update(by_size)
    return sizes


def config_options(project_root: Path) -> dict[str, list[str]]:
    """The options of every config group (``config_store`` = every preset) of the project, as
    `store.register` registers them."""
    catalog = Catalog.load(config_root(project_root) / "configs" / "datasets.yaml", data_root=project_root)
    domains = {key: entry.domain for key, entry in catalog.entries.items()}
    presets = []
    for key in catalog.entries:
        presets += preset_names({key: domains[key]}, {key: catalog.token_of(key)})
        presets.append(pipeline_name(key, domains[key], catalog.token_of(key)))
    sizes = [f"{family}_{size}{suffix}" for family, by_size in size_presets(project_root).items() for size in by_size
             for suffix in ("", *([NO_VOCABULARY_SUFFIX] if without_vocabulary_sizes(family) else []))]
    return {"config_store": presets, "model_size_config": sizes, "training_config": ["default"],
            "dataset_config": list(catalog.entries), "distillation_config": ["no", "standard"],
            "evaluation": ["default"], "device": list(DEVICES)}
