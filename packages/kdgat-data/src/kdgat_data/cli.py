"""``kdgat-data``: generate synthetic traffic, inspect captures, build the graph cache.

Heavy modules are imported inside the commands so ``--help`` answers at once.
"""

from __future__ import annotations

from pathlib import Path

import click

ON_BAD_ROW = click.Choice(["error", "skip"])


def _dataset(name_or_path: str, catalog: str | None, fmt: str | None):
    from kdgat_data.catalog import resolve_dataset

    dataset = resolve_dataset(name_or_path, catalog)
    if fmt is not None:
        from dataclasses import replace

        from kdgat_data.domains.automotive.readers.dispatch import ReaderOptions

        ReaderOptions(format=fmt)  # validates the name
        dataset = replace(dataset, entry=dataset.entry.model_copy(update={"format": fmt}))
    return dataset


def _friendly_errors(function):
    """Turn input errors into a one-line message and exit status 1 (no traceback)."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from pydantic import ValidationError

        from kdgat_data.catalog import CatalogError
        from kdgat_data.readers.errors import DataFormatError

        try:
            return function(*args, **kwargs)
        except (DataFormatError, CatalogError, FileNotFoundError, FileExistsError, ValueError) as error:
            if isinstance(error, ValidationError):
                error = "; ".join(e["msg"] for e in error.errors())
            raise click.ClickException(str(error)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """CAN captures and synthetic traffic -> leakage-free window graphs (kdgat-data)."""


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--frames", default=60_000, show_default=True, help="Frames of the attack-free training capture.")
@click.option("--seed", default=0, show_default=True, help="Random seed (same seed, same bytes).")
@click.option("--attacks", default=None, help="Comma-separated subset of: dos,fuzzing,gear_spoofing,rpm_spoofing,masquerade,suppression.")
@click.option("--attack-share", default=0.02, show_default=True, help="Share of attack frames per attack capture.")
@click.option("--vehicle", default=0, show_default=True, help="Which synthetic car: its CAN IDs and payload layouts "
              "(another vehicle has other IDs, for cross-dataset evaluation).")
@click.option("--force", is_flag=True, help="Replace OUT_DIR if it exists.")
@_friendly_errors
def synth(out_dir: Path, frames: int, seed: int, attacks: str | None, attack_share: float, vehicle: int,
          force: bool) -> None:
    """Write a synthetic CAN dataset in the can-train-and-test layout to OUT_DIR."""
    from kdgat_data.domains.automotive.synthetic.attacks import ATTACKS
    from kdgat_data.domains.automotive.synthetic.generator import generate_dataset

    chosen = tuple(a.strip() for a in attacks.split(",")) if attacks else ATTACKS
    written = generate_dataset(out_dir, frames=frames, seed=seed, attacks=chosen, attack_share=attack_share,
                               overwrite=force, vehicle=vehicle)
    click.echo(f"wrote {len(written)} captures to {out_dir}:")
    for path in written:
        click.echo(f"  {path.relative_to(out_dir)}")
    click.echo(f"next: kdgat-data inspect {out_dir}")


@main.command()
@click.argument("dataset")
@click.option("--format", "fmt", default=None, help="Reader format (detected per file when omitted).")
@click.option("--window", type=int, default=None, help="Records per window W (default: the catalog entry's, else 100).")
@click.option("--stride", type=int, default=None, help="Records between window starts S (default: the entry's, else 100).")
@click.option("--validation-fraction", default=0.2, show_default=True,
              help="Tail share of each training file used for validation (the catalog's validation_fractions override it).")
@click.option("--min-class-windows", default=None, type=int,
              help="Warn when validation has fewer windows of a class (default: evaluation.min_class_windows, 30).")
@click.option("--on-bad-row", default="error", type=ON_BAD_ROW, show_default=True)
@click.option("--catalog", default=None, type=click.Path(dir_okay=False), help="Catalog file (default configs/datasets.yaml).")
@_friendly_errors
def inspect(dataset: str, fmt: str | None, window: int, stride: int, validation_fraction: float,
            min_class_windows: int | None, on_bad_row: str, catalog: str | None) -> None:
    """Frames, IDs, attack share, windows, graph sizes and validation windows per file of DATASET
    (catalog key or path)."""
    from kdgat_schemas import DEFAULT_MIN_CLASS_WINDOWS, class_shortfall

    from kdgat_data.cache import ensure_generated
    from kdgat_data.inspection import inspect_dataset

    resolved = _dataset(dataset, catalog, fmt)
    window, stride = window or resolved.entry.window or 100, stride or resolved.entry.stride or 100
    ensure_generated(resolved, click.echo)
    summary = inspect_dataset(resolved, resolved.entry.reader_options(on_bad_row, resolved.root), window, stride,
                              validation_fraction)
    from kdgat_data.domains.base import adapter_for

    records, entities = adapter_for(resolved.domain).record_words
    click.echo(f"{summary.name}: {summary.root}  ({resolved.domain}; W={window} {records}, S={stride})")
    header = (f"{'file':<48} {'role':<22} {'format':<15} {records:>8} {entities:>5} {'attack':>8} {'share':>7} "
              f"{'windows':>8} {'atk win':>8} {'nodes/g':>8} {'edges/g':>8}")
    click.echo(header)
    click.echo("-" * len(header))
    for f in summary.files:
        click.echo(
            f"{f.path[-48:]:<48} {f.role[:22]:<22} {f.format:<15} {f.frames:>8} {f.distinct_ids:>5} {f.attack_frames:>8} "
            f"{f.attack_share:>7.2%} {f.windows:>8} {f.attack_windows:>8} {f.nodes_per_graph[0]:>8.1f} {f.edges_per_graph[0]:>8.1f}"
        )
        details = [f"{f.duration_s:.1f} s"]
        if f.attack_types:
            details.append("attacks " + ", ".join(f"{k}={v}" for k, v in f.attack_types.items()))
        if f.skipped_rows:
            details.append(f"{f.skipped_rows} bad rows skipped")
        if f.reordered_frames:
            details.append(f"{f.reordered_frames} frames out of time order, sorted")
        details.append(f"nodes {f.nodes_per_graph[1]}-{f.nodes_per_graph[2]}, edges {f.edges_per_graph[1]}-{f.edges_per_graph[2]}")
        if f.role in ("train", "validation"):
            details.append(f"validation {f.validation_windows - f.validation_attack_windows} normal / "
                           f"{f.validation_attack_windows} attack windows")
        click.echo(f"{'':<4}{'; '.join(details)}")
    share = summary.attack_windows / summary.windows if summary.windows else 0.0
    click.echo(f"total: {len(summary.files)} files, {summary.frames} {records}, {summary.windows} windows, "
               f"{summary.attack_windows} attack windows ({share:.2%}), {summary.windows - summary.attack_windows} normal")
    normal, attack = summary.validation_windows
    click.echo(f"validation: {normal} normal and {attack} attack windows")
    shortfall = class_shortfall(normal, attack, min_class_windows or DEFAULT_MIN_CLASS_WINDOWS)
    if shortfall:
        click.echo(f"warning: validation has {shortfall}; name validation files, or set validation_fractions or "
                   f"validation_block (head: each file's first records) in the catalog entry", err=True)


@main.command()
@click.argument("dataset")
@click.option("--window", type=int, default=None, help="Records per window W (default: the catalog entry's, else 100).")
@click.option("--stride", type=int, default=None, help="Records between window starts S (default: the entry's, else 100).")
@click.option("--validation-fraction", default=0.2, show_default=True, help="Tail share of each training file used for validation.")
@click.option("--format", "fmt", default=None, help="Reader format (detected per file when omitted).")
@click.option("--on-bad-row", default="error", type=ON_BAD_ROW, show_default=True)
@click.option("--cache-dir", default=None, type=click.Path(file_okay=False), help="Cache root (default data/cache).")
@click.option("--catalog", default=None, type=click.Path(dir_okay=False), help="Catalog file (default configs/datasets.yaml).")
@click.option("--features", default=None, help="The domain's feature set (automotive: anchor, dynamics; "
              "watertreatment: statistics, signal; default: its first).")
@click.option("--train-stride", type=int, default=None, help="Stride of the training windows (default: --stride).")
@_friendly_errors
def build(dataset: str, window: int, stride: int, validation_fraction: float, fmt: str | None, on_bad_row: str,
          cache_dir: str | None, catalog: str | None, features: str | None, train_stride: int | None) -> None:
    """Build (or reuse) the graph cache of DATASET and print its manifest summary."""
    from kdgat_data.cache import build_cache

    resolved = _dataset(dataset, catalog, fmt)
    window, stride = window or resolved.entry.window or 100, stride or resolved.entry.stride or 100
    cache = build_cache(
        resolved, window=window, stride=stride, validation_fraction=validation_fraction,
        cache_root=cache_dir, on_bad_row=on_bad_row, progress=lambda m: click.echo(f"  {m}", err=True),
        features=features, train_stride=train_stride,
    )
    m = cache.manifest
    click.echo(f"{'reused' if cache.reused else 'built'} cache {cache.path}")
    click.echo(f"dataset {m.dataset} ({m.domain}), W={m.window}, S={m.stride}, validation tail {m.validation_fraction:.0%}, "
               f"features {m.feature_version}, vocabulary {len(m.vocabulary)} IDs + UNK"
               + (f", training windows every {m.train_stride}" if m.train_stride else ""))
    kept = [s for s in m.sources if s.role != "duplicate"]
    click.echo(f"sources: {len(kept)} files" + (f", {len(m.sources) - len(kept)} byte-identical duplicates skipped" if len(kept) < len(m.sources) else ""))
    for s in m.sources:
        if s.role == "duplicate":
            click.echo(f"  duplicate: {s.path} == {s.duplicate_of}")
    click.echo(f"{'split':<32} {'frames':>9} {'windows':>8} {'attack':>7} {'normal':>7} {'share':>7} {'nodes':>9} {'edges':>9}")
    for name, s in m.splits.items():
        click.echo(f"{name:<32} {s.frames:>9} {s.windows:>8} {s.attack_windows:>7} {s.normal_windows:>7} {s.attack_share:>7.2%} {s.nodes:>9} {s.edges:>9}")
    click.echo(f"manifest hash {m.content_hash()[:16]}")


if __name__ == "__main__":
    main()
