"""Inference throughput of every model preset: windows/s, eager vs torch.compile, and the
training throughput (forward + loss + backward + optimizer step, eager) of the graph models.

Run:  uv run python packages/kdgat-models/benchmarks/bench_models.py [--device cpu|cuda] [--bf16]
      [--families gat,vgae,mlp,dqn] [--sizes student,teacher] [--threads 1,2] [--batch-sizes 256,1]
      [--default-malloc]

Realistic window graphs: 20-50 nodes and about 2 edges per node (~100 edges), self-loops added
in the data, a vocabulary of 2049 IDs (11-bit CAN IDs + UNK). Inference is what evaluation runs:
GAT logits, the VGAE's per-window anomaly score (its reconstruction errors included). Targets
(DESIGN.md §8, issue 18): student GAT >= 20 K windows/s on one core at batch 256; compiled >= 1.3x
eager; student VGAE >= 10 K windows/s on one core at batch 256, inference and training; the
graph-less MLP student >= 5x the GAT student's windows/s on one core (issue 39). Prints the
compile time of each model too.
"""

from __future__ import annotations

import argparse
import copy
import functools
import inspect
import time
from pathlib import Path

import torch
from kdgat_models.example_graphs import example_batch
from kdgat_models.heap_reuse import reuse_freed_memory
from kdgat_models.presets import MODEL_CLASSES, build_model, load_presets
from kdgat_models.self_loops import SelfLoops
from kdgat_models.summary import run_model
from kdgat_models.vgae import anomaly_score, batch_graph_errors

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
            if family == "vgae":  # the anomaly score of each window, as evaluation computes it
                return anomaly_score(batch_graph_errors(model.forward_batch(batch), batch, anomaly_only=True))
            return run_model(model, batch)

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


def train_throughput(model, family: str, batches, seconds: float) -> float:
    """Training windows per second (eager): forward, the family's loss, backward, an AdamW step."""
    import torch.nn.functional as F
    from kdgat_models.vgae import vgae_loss

    def loss_of(batch):
        if family in ("gat", "mlp"):
            return F.cross_entropy(model.forward_batch(batch).logits, batch.y)
        output = model.forward_batch(batch)
        return vgae_loss(output, batch.x, batch.node_id, batch.edge_index, batch.batch)

    batches = [batch.clone() for batch in batches]  # normal tensors (made under inference_mode)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    windows, start, i = 0, None, 0
    while start is None or time.perf_counter() - start < seconds:
        if i == 2:
            start = time.perf_counter()  # after two warm-up steps
            windows = 0
        batch = batches[i % len(batches)]
        optimizer.zero_grad(set_to_none=True)
        loss_of(batch).backward()
        optimizer.step()
        windows += batch.num_graphs
        i += 1
    model.eval()
    return windows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bf16", action="store_true", help="autocast to bfloat16")
    parser.add_argument("--families", default="gat,vgae,mlp,dqn")
    parser.add_argument("--sizes", default="student,teacher")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch-sizes", default="256,1")
    parser.add_argument("--seconds", type=float, default=1.0, help="measuring time per cell")
    parser.add_argument("--default-malloc", action="store_true",
                        help="leave glibc malloc as it is (kdgat-train keeps freed memory for reuse)")
    args = parser.parse_args()
    if not args.default_malloc:
        reuse_freed_memory()  # as kdgat-train runs
    presets = load_presets(PRESETS)
    print(f"device {args.device}{' bf16' if args.bf16 else ''}, torch {torch.__version__}; windows/s (higher is better)")
    print(f"{'model':<14} {'threads':>7} {'batch':>6} {'eager':>10} {'compiled':>10} {'speed-up':>8} {'train':>8}", flush=True)
    for family in args.families.split(","):
        for size in args.sizes.split(","):
            accepted = inspect.signature(MODEL_CLASSES[family]).parameters
            kwargs = {key: value for key, value in (("num_ids", 2049), ("add_self_loops", False)) if key in accepted}
            model = build_model(family, size, presets, **kwargs).to(args.device).eval()
            torch._dynamo.reset()
            # compiled in place on a copy: forward_batch calls the module, so the compiled forward runs
            # (torch.compile(model) would return a wrapper whose forward_batch is the eager one)
            compiled = copy.deepcopy(model)
            compiled.compile(dynamic=True)
            cells = [(int(t), int(b)) for t in args.threads.split(",") for b in args.batch_sizes.split(",")]
            with torch.inference_mode():
                start = time.perf_counter()
                first = inputs(family != "dqn", cells[0][1], args.device)[0]
                with torch.autocast(device_type=args.device, dtype=torch.bfloat16, enabled=args.bf16):
                    run_model(compiled, first)
                compile_seconds = time.perf_counter() - start
                for threads, batch_size in cells:
                    torch.set_num_threads(threads)
                    batches = inputs(family != "dqn", batch_size, args.device)
                    eager = throughput(model, family, batches, args.seconds, args.device, args.bf16)
                    fast = throughput(compiled, family, batches, args.seconds, args.device, args.bf16)
                    trained = "-"
                    if family != "dqn" and not args.bf16:
                        with torch.inference_mode(False), torch.enable_grad():
                            trained = f"{train_throughput(model, family, batches, args.seconds):,.0f}"
                    print(f"{family + ' ' + size:<14} {threads:>7} {batch_size:>6} {eager:>10,.0f} {fast:>10,.0f} "
                          f"{fast / eager:>7.2f}x {trained:>8}", flush=True)
            print(f"{family + ' ' + size:<14} compile (first call, batch {cells[0][1]}): {compile_seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
