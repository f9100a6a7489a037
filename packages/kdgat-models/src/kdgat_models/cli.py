"""``kdgat-models``: model facts without training (argparse: this package depends on torch and PyG only)."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kdgat-models", description="GAT, VGAE and DQN-fusion models of kdgat.")
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", help="parameters and FLOPs per window of every size preset")
    summary.add_argument("--vocab-size", type=int, default=2049, help="ID vocabulary incl. UNK (default: 11-bit IDs + UNK)")
    summary.add_argument("--window-nodes", type=int, default=30, help="nodes of the example window (W=100 gives ~30)")
    summary.add_argument("--presets", default=None, help="model_sizes.toml overriding the packaged presets (default: configs/model_sizes.toml found upward, if any)")
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    main()
