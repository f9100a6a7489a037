"""Compiled vs eager (and bf16 autocast vs fp32) outputs of every preset on a device.

Run:  uv run python packages/kdgat-models/benchmarks/check_compiled.py --device cuda

The CPU case is covered by the test suite (tests/test_compile.py); this script is for the GPU,
where CI never runs. Prints the largest absolute difference per model and batch size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from kdgat_models.example_graphs import example_batch
from kdgat_models.presets import build_model, load_presets
from kdgat_models.self_loops import SelfLoops
from kdgat_models.summary import run_model

PRESETS = Path(__file__).resolve().parents[3] / "configs" / "model_sizes.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    presets = load_presets(PRESETS)
    torch.manual_seed(0)
    for family, sizes in presets.items():
        for size in sizes:
            kwargs = {} if family == "dqn" else {"num_ids": 2049, "add_self_loops": False}
            model = build_model(family, size, presets, **kwargs).to(args.device).eval()
            torch._dynamo.reset()
            compiled = torch.compile(model, dynamic=True)
            for n in (7, 64):
                batch = torch.randn(n, 15, device=args.device) if family == "dqn" else SelfLoops()(example_batch(n, num_ids=2049, seed=n)).to(args.device)
                with torch.no_grad():
                    eager = run_model(model, batch).float()
                    fast = run_model(compiled, batch).float()
                    with torch.autocast(device_type=args.device.split(":")[0], dtype=torch.bfloat16):
                        bf16 = run_model(model, batch).float()
                scale = eager.abs().max().item()
                print(f"{family:<5} {size:<8} batch {n:>3}: |compiled - eager| = {(fast - eager).abs().max().item():.2e}, "
                      f"|bf16 - fp32| = {(bf16 - eager).abs().max().item():.2e} (max |output| {scale:.2e})", flush=True)


if __name__ == "__main__":
    main()
