"""``kdgat-models``: model facts without training (argparse: this package depends on torch and PyG only)."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kdgat-models", description="GAT, VGAE and DQN-fusion models of kdgat.")
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", help="parameters and FLOPs per window of every size preset")
    summary.add_argument("--vocab-size", type=int, default=2049, help="ID vocabulary incl. UNK (default: 11-bit IDs + UNK)")
    summary.add_argument("--window-nodes", type=int, default=30, help="nodes of the example window (W=100 gives ~30)")
    summary.add_argument("--presets", default=None, help="model_sizes.toml overriding the packaged presets (default: configs/model_sizes.toml found upward, if any)")
    export = commands.add_parser("export", help="export a COMPLETED GAT, VGAE or fusion run to run without the project tree")
    export.add_argument("run_dir", metavar="RUN_DIR")
    export.add_argument("--format", choices=("onnx", "torchscript", "aoti"), default="onnx", dest="export_format")
    export.add_argument("--out", default=None, help="output folder (default: RUN_DIR/export/<format>/)")
    args = parser.parse_args(argv)
    if args.command == "export":
        _export(parser, args)
        return

    with _quiet_pyg_notice():
        from kdgat_models.presets import PresetError, load_presets
        from kdgat_models.summary import summarize

    try:
        presets = load_presets(args.presets)
    except PresetError as error:
        parser.exit(1, f"kdgat-models: {error}\n")
    rows = summarize(presets, args.vocab_size, args.window_nodes)
    print(f"vocabulary {args.vocab_size} IDs (incl. UNK); FLOPs = matmul FLOPs for one window of {args.window_nodes} nodes")
    print(f"{'model':<8} {'size':<8} {'parameters':>12} {'MFLOPs/window':>14}")
    for row in rows:
        print(f"{row.family:<8} {row.size:<8} {row.parameters:>12,} {row.flops_per_window / 1e6:>14.3f}")


@contextmanager
def _quiet_pyg_notice() -> Iterator[None]:
    """torch_geometric scripts a few helpers when it is imported: a deprecation notice that says nothing to a user."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch.jit.script` is deprecated")
        yield


EXPORTERS = "kdgat_models.exporters"  # entry points: who reads run folders (kdgat-train provides "run")


def _export(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Run folders are kdgat-train's: it provides the exporter as an entry point, so this package stays
    torch + PyG only and the command works wherever kdgat-train is installed."""
    from importlib.metadata import entry_points

    found = [point for point in entry_points(group=EXPORTERS) if point.name == "run"]
    if not found:
        parser.exit(1, "kdgat-models export: reading a run folder needs kdgat-train installed (uv sync --all-packages)\n")
    with _quiet_pyg_notice():
        exporter = found[0].load()
    try:
        exporter(args.run_dir, args.export_format, args.out)
    except (RuntimeError, ValueError, OSError) as error:
        parser.exit(1, f"kdgat-models export: {error}\n")


if __name__ == "__main__":
    main()
