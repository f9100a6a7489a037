"""Deployment benchmark (issue 16): a trained run's scorer as eager, compiled, TorchScript, ONNX and AOTInductor
(latency at batch 1, throughput at batch 256, one core), and the streaming detector end to end at
S=1 and S=100 (frames/s and the added delay of each micro-batch).

Run (after training the run, e.g. one epoch of the GAT student; ``aoti`` needs a C++ compiler):
    uv run kdgat-train config_store=automotive_synthetic_supervised_gat_student_no_all_samples training_config.epochs=1
    uv run python packages/kdgat-train/benchmarks/bench_deployment.py RUN_DIR [--frames 200000] [--threads 1]
        [--capture FILE] [--repeats 3]

The run's validation windows feed the model timings; the streaming part replays a capture (default:
the run's first test capture; ``--capture`` any file the readers accept) repeated to ``--frames``
frames through `StreamingDetector` (reading excluded: frames arrive as in-memory chunks of
``--chunk-windows x S`` frames, scored ``--batch-windows`` at a time), ``--repeats`` times per
setting: the median frames/s, its range, and the delays of the median run. Every window above the
threshold builds an alert, so the share of alerting windows (printed) matters. Targets (DESIGN.md
§8): >= 20 K frames/s per core at S=1 with at most 50 ms added delay; >= 1 M frames/s at S=100.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_models.scorer_export import FORMATS, EagerScorer, export_scorer, load_scorer
from kdgat_models.summary import count_parameters
from kdgat_train.deployment.export_run import run_manifest
from kdgat_train.deployment.frame_sources import file_chunks, read_capture
from kdgat_train.deployment.run_scorer import scorer_from_run
from kdgat_train.deployment.scorer_inputs import scorer_inputs
from kdgat_train.deployment.streaming_detector import StreamingDetector
from torch.utils.flop_counter import FlopCounterMode


class CompiledScorer(EagerScorer):
    def __init__(self, *, scorer) -> None:
        super().__init__(scorer=scorer)
        self.scorer = torch.compile(scorer, dynamic=True)


def timed(call, inputs: list[dict], repeats: int) -> list[float]:
    for batch in inputs[:2]:
        call(batch)  # warm-up (and compilation)
    seconds = []
    for k in range(repeats):
        started = time.perf_counter()
        call(inputs[k % len(inputs)])
        seconds.append(time.perf_counter() - started)
    return seconds


def repeated(table: FrameTable, frames: int) -> FrameTable:
    """``table`` concatenated with itself (times shifted) up to ``frames`` frames."""
    copies = -(-frames // len(table))
    span = float(table.timestamp[-1] - table.timestamp[0]) + 1e-3
    return FrameTable(
        np.concatenate([table.timestamp + k * span for k in range(copies)])[:frames],
        np.tile(table.can_id, copies)[:frames], np.tile(table.dlc, copies)[:frames],
        np.tile(table.payload, (copies, 1))[:frames], np.tile(table.label, copies)[:frames],
        np.tile(table.attack_type, copies)[:frames], table.attack_types, table.labelled, table.source,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--frames", type=int, default=200_000, help="frames streamed per setting")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--forms", default="eager,compiled,torchscript,onnx,aoti")
    parser.add_argument("--batch-windows", type=int, default=64, help="windows per scorer call when streaming")
    parser.add_argument("--chunk-windows", type=int, default=256, help="windows per chunk of frames when streaming")
    parser.add_argument("--capture", type=Path, help="capture to stream (default: the run's first test capture)")
    parser.add_argument("--repeats", type=int, default=3, help="streaming runs per setting (median reported)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    run = scorer_from_run(args.run_dir)
    manifest = run_manifest(run, export_format="eager", model_file="", parity_windows=0, difference=0.0)
    validation = run.cache.split("val")
    single = [scorer_inputs(validation, [k]) for k in range(min(len(validation), 64))]
    full = [scorer_inputs(validation, np.arange(s, s + 256) % len(validation)) for s in range(0, 256 * 8, 256)]
    example = {name: torch.from_numpy(value) for name, value in full[0].items()}
    nodes = float(np.mean([len(b["x"]) for b in full])) / 256
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        run.scorer(*(torch.from_numpy(full[0][name]) for name in full[0]))
    print(f"{run.settings.name}: {count_parameters(run.scorer):,} parameters, "
          f"{counter.get_total_flops() / 256 / 1e6:.3f} MFLOPs per window (matmuls; {nodes:.1f} nodes per window)")
    print(f"threads {args.threads}; W={manifest.window}")
    scorers = {}
    with tempfile.TemporaryDirectory() as folder:
        for form in args.forms.split(","):
            if form == "eager":
                scorers[form] = EagerScorer(scorer=run.scorer)
            elif form == "compiled":
                scorers[form] = CompiledScorer(scorer=run.scorer)
            else:
                path = export_scorer(run.scorer, example, Path(folder) / FORMATS[form], form)
                scorers[form] = load_scorer(path)
        print(f"\n{'form':<12} {'batch 1 ms (median)':>20} {'batch 256 windows/s':>20}")
        for form, scorer in scorers.items():
            latency = statistics.median(timed(scorer, single, 200)) * 1000
            throughput = 256 / statistics.median(timed(scorer, full, 20))
            print(f"{form:<12} {latency:>20.2f} {throughput:>20,.0f}")
        capture_path = args.capture or first_test_capture(run)
        capture = repeated(read_capture(capture_path, manifest.reader_options)[0], args.frames)
        print(f"\nstreaming {args.frames:,} frames of {capture_path.name} (repeated), chunks of "
              f"{args.chunk_windows} x S frames, scorer calls of {args.batch_windows} windows, median of {args.repeats} runs")
        print(f"{'form':<12} {'S':>4} {'frames/s':>12} {'(min-max)':>20} {'windows/s':>12} {'alerting':>9} "
              f"{'delay p50 ms':>13} {'p99 ms':>8} {'max ms':>8}")
        for stride in (1, 100):
            for form in ("torchscript", "onnx", "aoti"):
                if form not in scorers:
                    continue
                runs = sorted((stream(scorers[form], manifest, capture, stride, args) for _ in range(args.repeats)),
                              key=lambda result: result[0])
                rate, windows_rate, detector = runs[len(runs) // 2]
                delays = detector.latencies_ms
                spread = f"{runs[0][0]:,.0f}-{runs[-1][0]:,.0f}"
                print(f"{form:<12} {stride:>4} {rate:>12,.0f} {spread:>20} {windows_rate:>12,.0f} "
                      f"{detector.alerts / max(detector.windows_scored, 1):>9.1%} {np.percentile(delays, 50):>13.1f} "
                      f"{np.percentile(delays, 99):>8.1f} {max(delays):>8.1f}")


def first_test_capture(run) -> Path:
    from kdgat_data.catalog import resolve_dataset

    test_split = next(name for name in run.cache.split_names if name.startswith("test/"))
    source = run.cache.manifest.sources[int(run.cache.split(test_split).source[0])]
    return resolve_dataset(run.settings.dataset_config.name).root / source.path


def stream(scorer, manifest, capture: FrameTable, stride: int, args) -> tuple[float, float, StreamingDetector]:
    """One replay of ``capture`` at stride ``stride``: (frames/s, windows/s, the detector with its counts and delays)."""
    detector = StreamingDetector(scorer=scorer, manifest=manifest, batch_windows=args.batch_windows, stride=stride)
    started = time.perf_counter()
    for chunk, received_at in file_chunks(capture, args.chunk_windows * stride):
        detector.feed(chunk, received_at)
    elapsed = time.perf_counter() - started
    return detector.frames / elapsed, detector.windows_scored / elapsed, detector


if __name__ == "__main__":
    main()
