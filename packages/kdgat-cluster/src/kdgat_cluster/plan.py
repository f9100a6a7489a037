"""Plans: which jobs a ``submit``, ``sweep`` or ``pipeline`` makes, in submission order, with the
jobs each one waits for. Everything is validated here, before anything is submitted."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from kdgat_schemas import (
    DISTILLATIONS,
    MODES,
    SIZES,
    ExperimentName,
    JobResources,
    check_safe_argument,
    dataset_token,
    pipeline_stages,
    upstream,
)
from kdgat_schemas.dataset_catalog import CatalogFileError, catalog_index
from kdgat_schemas.pipeline_dag import check_pipeline_modes
from kdgat_schemas.upstream_rules import LEARNING_OF_MODEL

from kdgat_cluster.profile import ClusterProfile


class PlanError(ValueError):
    """A request that cannot become jobs; nothing has been submitted."""


@dataclass
class PlannedJob:
    """One job of a plan. ``run_name`` is the stage (or pipeline) whose run folder the job gets."""

    key: str
    run_name: ExperimentName
    command: list[str]
    resources: JobResources
    after: list[str] = field(default_factory=list)


@dataclass
class ResourceRequest:
    """Command-line resource options (None: take the profile's)."""

    time: str | None = None
    gpus: int | None = None
    memory: str | None = None
    cpus: int | None = None
    partition: str | None = None


def check_overrides(overrides: list[str]) -> list[str]:
    """Each override must be ``key=value`` without shell syntax or ``..``; ``run_dir`` is the manager's."""
    for override in overrides:
        check_safe_argument("override", override)
        if "=" not in override:
            raise PlanError(f"override {override!r}: expected KEY=VALUE (e.g. training_config.epochs=5)")
        if override.split("=", 1)[0].lstrip("+~") in ("run_dir", "config_store"):
            raise PlanError(f"override {override!r}: {override.split('=', 1)[0]} is set by kdgat-cluster")
    return overrides


def _devices_override(overrides: list[str]) -> int | None:
    for override in overrides:
        key, _, value = override.partition("=")
        if key.lstrip("+") == "device.devices" and value.isdigit():
            return int(value)
    return None


def _device_arguments(resources: JobResources, overrides: list[str]) -> list[str]:
    """GPU jobs train with device=cuda on every GPU of each node (unless the overrides say otherwise)."""
    if resources.gpus_per_node == 0 or any(o.split("=", 1)[0].lstrip("+").startswith("device") for o in overrides):
        return []
    return ["device=cuda", f"device.devices={resources.gpus_per_node}", f"device.num_nodes={resources.nodes}"]


REPORT_STAGE = "report"  # the profile's [stages.report]: the pipeline's last job (tables and report)


def _stage_resources(profile: ClusterProfile, name: ExperimentName, request: ResourceRequest,
                     overrides: list[str]) -> JobResources:
    resources = profile.resources(name.model, name.size, request.gpus, request.time, request.memory, request.cpus,
                                  request.partition)
    devices = _devices_override(overrides)
    if devices is not None:  # DDP: srun starts one task per device (CPU processes or GPUs)
        resources = resources.model_copy(update={"ntasks_per_node": devices})
    return resources


def known_datasets(project_root: Path) -> dict[str, tuple[str, str]]:
    """Catalog keys -> (domain, dataset token) of ``configs/datasets.yaml`` (`kdgat_schemas.catalog_index`);
    a missing or malformed catalog is an error naming the file."""
    try:
        return catalog_index(project_root / "configs" / "datasets.yaml")
    except CatalogFileError as error:
        raise PlanError(str(error)) from None


def _check_dataset(token: str, domain: str, catalog: dict[str, tuple[str, str]]) -> None:
    pairs = set(catalog.values())
    if (domain, token) not in pairs:
        known = ", ".join(sorted(f"{d}_{t}" for d, t in pairs))
        raise PlanError(f"dataset {domain}_{token} is not in configs/datasets.yaml; known: {known}")


def dataset_token_of(dataset: str, domain: str, catalog: dict[str, tuple[str, str]]) -> str:
    """The token of a catalog key given on the command line (or the token itself)."""
    if dataset in catalog and catalog[dataset][0] == domain:
        return catalog[dataset][1]
    return dataset_token(dataset)


def plan_submit(name: str, overrides: list[str], profile: ClusterProfile, request: ResourceRequest,
                catalog: dict[str, str]) -> list[PlannedJob]:
    """One job for one stage preset."""
    check_safe_argument("name", name)
    parsed = ExperimentName.parse(name)
    if parsed.is_pipeline:
        raise PlanError(f"{name} is a pipeline: submit it with `kdgat-cluster pipeline {parsed.dataset}` (one job per stage)")
    _check_dataset(parsed.dataset, parsed.domain, catalog)
    check_overrides(overrides)
    resources = _stage_resources(profile, parsed, request, overrides)
    command = ["kdgat-train", f"config_store={name}", *_device_arguments(resources, overrides), *overrides]
    return [PlannedJob(name, parsed, command, resources)]


def _upstream_in_sweep(name: ExperimentName, names: dict[str, ExperimentName]) -> list[str]:
    """Jobs of the same sweep that a stage may look up when it starts (`kdgat_schemas.upstream_rules`)."""
    keys = {candidate.format() for candidate in upstream(name)}
    return [key for key in names if key in keys]


def plan_sweep(models: list[str], sizes: list[str], distillations: list[str], datasets: list[str], modes: list[str],
               domain: str, overrides: list[str], profile: ClusterProfile, request: ResourceRequest,
               catalog: dict[str, str], say=print) -> list[PlannedJob]:
    """The Cartesian product of the options, as stage jobs; teachers are never distilled (skipped)."""
    check_overrides(overrides)
    for label, values, allowed in (("model", models, tuple(LEARNING_OF_MODEL)), ("size", sizes, SIZES),
                                   ("distillation", distillations, DISTILLATIONS)):
        bad = [v for v in values if v not in allowed]
        if bad or not values:
            raise PlanError(f"--{label}s: {', '.join(bad) or 'nothing given'}: expected some of {', '.join(allowed)}")
    usable_modes = {model: [m for m in (modes or [MODES[model][0]]) if m in MODES[model]] for model in models}
    unused = [m for m in modes if not any(m in MODES[model] for model in models)]
    if unused:
        known = "; ".join(f"{model}: {', '.join(model_modes)}" for model, model_modes in MODES.items())
        raise PlanError(f"--modes: {', '.join(unused)} fits none of the models {', '.join(models)} ({known})")
    names: dict[str, ExperimentName] = {}
    skipped = 0
    for dataset, model, size, distillation in itertools.product(datasets, models, sizes, distillations):
        for mode in usable_modes[model]:
            if size == "teacher" and distillation == "standard":
                skipped += 1
                continue
            name = ExperimentName(domain=domain, dataset=dataset_token_of(dataset, domain, catalog), learning=LEARNING_OF_MODEL[model], model=model,
                                  size=size, distillation=distillation, mode=mode)
            _check_dataset(name.dataset, domain, catalog)
            names[name.format()] = name
    if skipped:
        say(f"skipped {skipped} teacher x standard combination(s): teachers are never distilled")
    after = {key: _upstream_in_sweep(name, names) for key, name in names.items()}
    jobs = []
    for key in _upstream_first(after):
        resources = _stage_resources(profile, names[key], request, overrides)
        command = ["kdgat-train", f"config_store={key}", *_device_arguments(resources, overrides), *overrides]
        jobs.append(PlannedJob(key, names[key], command, resources, after[key]))
    return jobs


def _upstream_first(after: dict[str, list[str]]) -> list[str]:
    """The keys in an order where each follows the keys it waits for (otherwise in the given order)."""
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(after):
        ready = [key for key in after if key not in placed and set(after[key]) <= placed]
        if not ready:
            raise PlanError(f"the jobs {', '.join(k for k in after if k not in placed)} wait for each other")
        ordered += ready
        placed |= set(ready)
    return ordered


def _seeds_override(overrides: list[str]) -> list[int] | None:
    """The seeds of a ``pipeline.seeds=[0,1,2]`` override (``None`` without one)."""
    for override in overrides:
        key, _, value = override.partition("=")
        if key.lstrip("+") == "pipeline.seeds":
            if not re.fullmatch(r"\[\s*-?\d+(\s*,\s*-?\d+)*\s*\]", value):
                raise PlanError(f"override {override!r}: expected pipeline.seeds=[0,1,2] (a list of integers)")
            return [int(seed) for seed in re.findall(r"-?\d+", value)]
    return None


def plan_pipeline(dataset: str, domain: str, vgae_mode: str, gat_mode: str, overrides: list[str],
                  profile: ClusterProfile, request: ResourceRequest, catalog: dict[str, str]) -> list[PlannedJob]:
    """One job per pipeline stage (``pipeline.only=KEY``) chained with afterok, then the table job.

    With ``pipeline.seeds=[S,...]`` the stage jobs are planned once per seed (``training_config.seed=S``,
    keys ending ``_seedS``, each seed's chain independent of the others) and the last job runs the
    pipeline with the seeds, every stage reused: each seed's table, then the report over the seeds."""
    check_overrides(overrides)
    check_safe_argument("dataset", dataset)
    pipeline = (ExperimentName.parse(dataset) if dataset.endswith("_pipeline")
                else ExperimentName(domain=domain, dataset=dataset_token_of(dataset, domain, catalog)))
    _check_dataset(pipeline.dataset, pipeline.domain, catalog)
    try:
        check_pipeline_modes(vgae_mode, gat_mode)
    except ValueError as error:
        raise PlanError(f"--vgae-mode / --gat-mode: {error}") from None
    if any(o.split("=", 1)[0] == "pipeline.only" for o in overrides):
        raise PlanError("pipeline.only is set by kdgat-cluster (one job per stage)")
    seeds = _seeds_override(overrides)
    if seeds is not None and any(o.split("=", 1)[0].lstrip("+") == "training_config.seed" for o in overrides):
        raise PlanError("pipeline.seeds and training_config.seed both given: the seeds set each chain's seed")
    shared = [f"config_store={pipeline}", f"pipeline.vgae_mode={vgae_mode}", f"pipeline.gat_mode={gat_mode}", *overrides]
    jobs = []
    for seed in seeds if seeds is not None else [None]:
        suffix = "" if seed is None else f"_seed{seed}"
        chain = shared if seed is None else [*(a for a in shared if not a.lstrip("+").startswith("pipeline.seeds=")),
                                             f"training_config.seed={seed}"]
        for stage in pipeline_stages(pipeline, vgae_mode, gat_mode):
            resources = _stage_resources(profile, stage.name, request, overrides)
            command = ["kdgat-train", *chain, *_device_arguments(resources, overrides), f"pipeline.only={stage.key}"]
            jobs.append(PlannedJob(stage.key + suffix, stage.name, command, resources,
                                   [needed + suffix for needed in stage.upstream]))
    table = profile.resources(REPORT_STAGE, None, gpus=0, cpus=1, time=request.time or "00:30:00")  # no training
    final = [argument for argument in shared if not argument.startswith("pipeline.force=")]
    jobs.append(PlannedJob("comparison_table" if seeds is None else "comparison_tables_and_report", pipeline,
                           ["kdgat-train", *final, "pipeline.force=false"], table,
                           [job.key for job in jobs]))  # every stage reused: it only builds the table(s)
    return jobs
