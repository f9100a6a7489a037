"""Training throughput on a GPU: fp32 vs bf16 mixed precision, eager vs torch.compile.

Run (on a GPU machine, with a cache built beforehand by ``kdgat-data build synthetic``):
    uv run python packages/kdgat-train/benchmarks/gpu_training_check.py --cache data/cache/synthetic/<key>

Uses the real LightningModules and networks of kdgat on the cached windows, without Hydra or
MLflow, so it needs only torch, PyG, Lightning and torchmetrics. Prints seconds per epoch (after
the first, which includes compilation) and the final validation metrics.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
from kdgat_data.batching import WindowBatches
from kdgat_data.dataset import WindowGraphDataset
from kdgat_data.graph_arrays import GraphArrays
from kdgat_models import GATWithJK, GraphAutoencoderNeighborhood
from kdgat_models.self_loops import SelfLoops
from kdgat_train.modules.autoencoder import AutoencoderModule
from kdgat_train.modules.classifier import GraphClassifierModule
from lightning.pytorch.callbacks import Callback
from torch.utils.data import DataLoader as TorchLoader
from torch_geometric.loader import DataLoader

SIZES = {
    ("gat", "student"): dict(hidden_dim=24, num_layers=2, heads=4, id_embedding_dim=8, fc_layers=2),
    ("gat", "teacher"): dict(hidden_dim=64, num_layers=5, heads=8, id_embedding_dim=32, fc_layers=1),
    ("vgae", "student"): dict(hidden_dim=80, num_layers=2, latent_dim=16, heads=1, id_embedding_dim=4),
    ("vgae", "teacher"): dict(hidden_dim=1024, num_layers=2, latent_dim=96, heads=4, id_embedding_dim=64),
}


class EpochTimer(Callback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_epoch_start(self, trainer, module) -> None:
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, module) -> None:
        torch.cuda.synchronize()
        self.times.append(time.perf_counter() - self.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", required=True, type=Path)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--models", default="gat_student,gat_teacher,vgae_teacher")
    parser.add_argument("--precisions", default="32-true,bf16-mixed")
    parser.add_argument("--workers", type=int, default=4, help="DataLoader workers for the pyg loader")
    parser.add_argument("--loader", choices=["batches", "pyg"], default="batches")
    args = parser.parse_args()
    manifest = json.loads((args.cache / "manifest.json").read_text())
    num_ids = len(manifest["vocabulary"]) + 1
    train_arrays, val_arrays = GraphArrays.load(args.cache / "train"), GraphArrays.load(args.cache / "val")
    if args.loader == "pyg":  # one Data per window, collated by PyG
        train = DataLoader(WindowGraphDataset(train_arrays, transform=SelfLoops()), batch_size=args.batch_size, shuffle=True,
                           num_workers=args.workers, persistent_workers=args.workers > 0)
        val = DataLoader(WindowGraphDataset(val_arrays, transform=SelfLoops()), batch_size=args.batch_size,
                         num_workers=args.workers, persistent_workers=args.workers > 0)
    else:  # batches gathered from the flat arrays, as kdgat-train does
        train = TorchLoader(WindowBatches(train_arrays, args.batch_size, shuffle=True, transform=SelfLoops()), batch_size=None)
        val = TorchLoader(WindowBatches(val_arrays, args.batch_size, transform=SelfLoops()), batch_size=None)
    counts = torch.bincount(torch.as_tensor(np.asarray(train_arrays.y)).long(), minlength=2).float()
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, {args.loader} loader; {len(train_arrays)} train / {len(val_arrays)} val windows, "
          f"batch {args.batch_size}, {args.epochs} epochs", flush=True)
    print(f"{'model':<14} {'precision':<11} {'compile':<8} {'s/epoch':>8} {'first epoch s':>14}  final val metrics", flush=True)
    for model_name in args.models.split(","):
        family, size = model_name.split("_")
        for precision in args.precisions.split(","):
            for compiled in (False, True):
                L.seed_everything(0, verbose=False)
                if family == "gat":
                    net = GATWithJK(num_ids, add_self_loops=False, **SIZES[(family, size)])
                    module = GraphClassifierModule(net=net, loss="weighted_ce", class_counts=counts)
                else:
                    net = GraphAutoencoderNeighborhood(num_ids, add_self_loops=False, **SIZES[(family, size)])
                    module = AutoencoderModule(net=net)
                if compiled:
                    module.net = torch.compile(net, dynamic=True)
                timer = EpochTimer()
                trainer = L.Trainer(accelerator="gpu", devices=1, precision=precision, max_epochs=args.epochs, logger=False,
                                    enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                                    callbacks=[timer])
                try:
                    trainer.fit(module, train, val)
                except Exception as error:  # report and go on with the next cell
                    print(f"{model_name:<14} {precision:<11} {compiled!s:<8} failed: {type(error).__name__}: {error}"[:300], flush=True)
                    continue
                steady = sum(timer.times[1:]) / max(len(timer.times) - 1, 1)
                metrics = {k: round(float(v), 4) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
                print(f"{model_name:<14} {precision:<11} {compiled!s:<8} {steady:>8.2f} {timer.times[0]:>14.2f}  {metrics}", flush=True)


if __name__ == "__main__":
    main()
