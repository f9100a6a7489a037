"""Inference throughput of every model preset: windows/s, eager vs torch.compile.

Run:  uv run python packages/kdgat-models/benchmarks/bench_models.py [--device cpu|cuda] [--bf16]
      [--families gat,vgae,dqn] [--sizes student,teacher] [--threads 1,2] [--batch-sizes 256,1]

Realistic window graphs: 20-50 nodes and about 2 edges per node (~100 edges), self-loops added
in the data. Targets (DESIGN.md §8): student GAT >= 20 K windows/s on one core at batch 256;
compiled >= 1.3x eager. Prints the compile time of each model too.
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import torch
from kdgat_models.example_graphs import example_batch
from kdgat_models.presets import build_model, load_presets
from kdgat_models.self_loops import SelfLoops
from kdgat_models.summary import run_model

PRESETS = Path(__file__).resolve().parents[3] / "configs" / "model_sizes.toml"


@functools.cache
def inputs(graphs: bool, batch_size: int, device: str, count: int = 4):
    """A few distinct batches, moved to the device once (shared by every model)."""
    if not graphs:
        return [torch.randn(batch_size, 15, device=device) for _ in range(count)]
    return [SelfLoops()(example_batch(batch_size, num_ids=2049, seed=s)).to(device) for s in range(count)]


def throughput(model, family: str, batches, seconds: float, device: str, bf16: bool) -> float:
    """Windows per second over about ``seconds`` of back-to-back inference."""

    def run(batch):
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
            return run_model(family, model, batch)

    for batch in batches[:2]:
        run(batch)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    windows, start, i = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        batch = batches[i % len(batches)]
        run(batch)
        windows += batch.size(0) if family == "dqn" else batch.num_graphs
        i += 1
    sync()
    return windows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bf16", action="store_true", help="autocast to bfloat16")
    parser.add_argument("--families", default="gat,vgae,dqn")
    parser.add_argument("--sizes", default="student,teacher")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch-sizes", default="256,1")
    parser.add_argument("--seconds", type=float, default=1.0, help="measuring time per cell")
    args = parser.parse_args()
    presets = load_presets(PRESETS)
    print(f"device {args.device}{' bf16' if args.bf16 else ''}, torch {torch.__version__}; windows/s (higher is better)")
    print(f"{'model':<14} {'threads':>7} {'batch':>6} {'eager':>10} {'compiled':>10} {'speed-up':>8}", flush=True)
    for family in args.families.split(","):
        for size in args.sizes.split(","):
            kwargs = {} if family == "dqn" else {"num_ids": 2049, "add_self_loops": False}
            model = build_model(family, size, presets, **kwargs).to(args.device).eval()
            torch._dynamo.reset()
            compiled = torch.compile(model, dynamic=True)
            cells = [(int(t), int(b)) for t in args.threads.split(",") for b in args.batch_sizes.split(",")]
            with torch.inference_mode():
                start = time.perf_counter()
                first = inputs(family != "dqn", cells[0][1], args.device)[0]
                with torch.autocast(device_type=args.device, dtype=torch.bfloat16, enabled=args.bf16):
                    run_model(family, compiled, first)
                compile_seconds = time.perf_counter() - start
                for threads, batch_size in cells:
                    torch.set_num_threads(threads)
                    batches = inputs(family != "dqn", batch_size, args.device)
                    eager = throughput(model, family, batches, args.seconds, args.device, args.bf16)
                    fast = throughput(compiled, family, batches, args.seconds, args.device, args.bf16)
                    print(f"{family + ' ' + size:<14} {threads:>7} {batch_size:>6} {eager:>10,.0f} {fast:>10,.0f} {fast / eager:>7.2f}x",
                          flush=True)
            print(f"{family + ' ' + size:<14} compile (first call, batch {cells[0][1]}): {compile_seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
