"""The whole quality protocol (``kdgat-runs protocol``): every dataset's pipeline over the seeds with
``evaluation.threshold=fpr:0.05``, per feature set of its domain, then the tables; optionally its
variants and the unknown-vehicle pairs. Nothing is tuned here: the protocol is fixed, and a goal that
is not met is reported as such (docs/quality-protocol.md)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import yaml

from kdgat_train.protocol.datasets import (
    ID_FREE,
    catalog_entries,
    feature_sets,
    split_dos_capture,
    test_only_datasets,
    write_catalog,
)
from kdgat_train.protocol.runs import THRESHOLD, quality_folder, run_pipeline
from kdgat_train.protocol.tables import gather
from kdgat_train.protocol.variants import (
    KD_GRID,
    SAMPLING_VARIANT,
    gather_variants,
    kd_variant,
    parse_variant,
    unknown_vehicle,
)

DEFAULT_FEATURES = "anchor,dynamics,statistics,signal"


class ProtocolError(ValueError):
    """A protocol command that cannot run as given (named, with what was expected)."""


def run_protocol(*, shared: Path, work: Path, seeds: list[int], jobs: int = 1, features: str = DEFAULT_FEATURES,
                 datasets: list[str] | None = None, gather_only: bool = False, unknown_vehicles: bool = False,
                 id_free: bool = False, validation_block: str = "tail", threshold: str = THRESHOLD,
                 sampling_ablation: bool = False, kd_sweep: bool = False, variants: tuple[str, ...] = (),
                 say=print) -> Path:
    """Run (or reuse) every pipeline the options name and write the tables; the folder that holds them.

    Args:
        shared: the folder of the real captures (``../shared/data``). work: the protocol's work folder.
        seeds: the seeds of every pipeline. jobs: ``pipeline.jobs`` of each.
        features: feature sets to run (each dataset runs those of its domain).
        datasets: catalog keys (default: every protocol dataset). gather_only: run nothing, tables only.
        unknown_vehicles, id_free, validation_block, threshold, sampling_ablation, kd_sweep, variants: the
            options of ``kdgat-runs protocol`` of the same names.
    """
    try:
        extra_variants = [parse_variant(text) for text in variants]
    except ValueError as error:
        raise ProtocolError(f"--variant: {error}") from None
    if not shared.is_dir():
        raise ProtocolError(f"{shared}: no shared data folder (the protocol needs the real captures; --shared)")
    work = work.resolve()
    (work / "logs").mkdir(parents=True, exist_ok=True)
    (work / "quality").mkdir(parents=True, exist_ok=True)
    entries = catalog_entries(shared.resolve(), work)
    written = work / "configs" / "datasets.yaml"
    if written.is_file():
        before = {entry.get("validation_block", "tail") for entry in yaml.safe_load(written.read_text())["datasets"].values()}
        if before != {validation_block}:
            raise ProtocolError(f"{work} holds runs of another validation block: give --validation-block "
                                f"{validation_block} a --work of its own")
    if validation_block != "tail":
        for entry in entries.values():
            entry["validation_block"] = validation_block
    split_dos_capture(shared.resolve(), work)
    write_catalog(entries, work)
    wanted = list(datasets) if datasets else [key for key in entries if not key.endswith(ID_FREE) and key not in test_only_datasets()]
    if id_free:
        wanted += [f"{key}{ID_FREE}" for key in wanted if f"{key}{ID_FREE}" in entries and f"{key}{ID_FREE}" not in wanted]
    unknown = sorted(set(wanted) - set(entries))
    if unknown:
        raise ProtocolError(f"--datasets: unknown {', '.join(unknown)}; expected some of {', '.join(entries)}")
    for key in [] if gather_only else wanted:
        for feature_set in feature_sets(entries[key], features):
            run_pipeline(key, entries[key], feature_set, seeds, work, say, threshold, jobs=jobs)
    gather(entries, features, seeds, work, threshold)
    chosen = ([SAMPLING_VARIANT] if sampling_ablation else []) + ([kd_variant(p) for p in KD_GRID] if kd_sweep else []) \
        + extra_variants
    for key in [] if gather_only else wanted:
        for feature_set in feature_sets(entries[key], features):
            for variant, overrides in chosen:
                run_pipeline(key, entries[key], feature_set, seeds, work, say, threshold, variant, overrides, jobs=jobs)
    if chosen:
        options = SimpleNamespace(features=features, threshold=threshold, sampling_ablation=sampling_ablation,
                                  kd_sweep=kd_sweep)
        gather_variants(entries, wanted, options, seeds, work, extra_variants)
    if unknown_vehicles:
        output = quality_folder(work, threshold) / "unknown_vehicle.md"
        output.write_text(unknown_vehicle(entries, seeds, work, threshold, say))
        say(f"wrote {output}")
    return quality_folder(work, threshold)
