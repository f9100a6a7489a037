"""``kdgat-detect``: a trained run or its export as a streaming intrusion detector.

    kdgat-detect EXPORT_OR_RUN_DIR --input FILE [--stride S]
    kdgat-detect EXPORT_OR_RUN_DIR --interface virtual|socketcan --channel NAME

Alerts go to ``--alerts`` as JSON lines; a status line (frames/s, windows/s, alerts, added latency)
runs on stderr; the summary (and, for a labelled capture, the window and event metrics of offline
evaluation with the detection delay of each attack event) is printed and written to ``--summary``.
Ctrl-C stops reading, flushes and closes the alert file and writes the summary (exit 130).
"""

from __future__ import annotations

from pathlib import Path

import click

from kdgat_train.deployment.unknown_traffic import FAMILIAR_COVERAGE, UNKNOWN_REFUSE_SHARE, UNKNOWN_WARN_SHARE
from kdgat_train.known_warnings import quiet_known_warnings


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("target", metavar="EXPORT_OR_RUN_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--input", "input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a capture file (any format the readers accept), replayed as fast as it is scored")
@click.option("--interface", type=click.Choice(["virtual", "socketcan"]), help="a live CAN bus through python-can")
@click.option("--channel", help="the bus channel (e.g. vcan0, can0, or a virtual channel name)")
@click.option("--alerts", "alerts_path", type=click.Path(dir_okay=False, path_type=Path),
              help="alert JSON lines (default: RUN_DIR/detect/<capture or bus>-<UTC time>/alerts.jsonl, beside the "
              "run the model came from, else beside the export)")
@click.option("--force", is_flag=True, help="overwrite an existing --alerts file and its summary")
@click.option("--summary", "summary_path", type=click.Path(dir_okay=False, path_type=Path),
              help="summary JSON (default: beside the alerts, .summary.json)")
@click.option("--stride", type=click.IntRange(min=1), help="S: a window every S frames (default: the run's)")
@click.option("--batch-windows", type=click.IntRange(min=1), default=64, show_default=True,
              help="windows per scorer call (64 ran faster per window than 256 on one core: the working set stays in cache)")
@click.option("--chunk-frames", type=click.IntRange(min=1), help="frames read or received per chunk (default: 256 x S)")
@click.option("--max-delay-ms", type=click.FloatRange(min=0), default=20.0, show_default=True,
              help="bus input: the longest a frame waits for its micro-batch")
@click.option("--idle-exit", type=click.FloatRange(min=0), help="bus input: stop after this many seconds without a frame")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="torch threads of an eager or TorchScript scorer (ONNX always runs on one: see OnnxScorer)")
@click.option("--status/--no-status", default=None, help="live status line on stderr (default: when stderr is a terminal)")
@click.option("--max-unknown-share", type=click.FloatRange(0, 1), default=UNKNOWN_REFUSE_SHARE, show_default=True,
              help="refuse traffic where more than this share of frames carry CAN IDs the model never saw in training "
              f"while fewer than {FAMILIAR_COVERAGE:.0%} of its training IDs appear (another vehicle); a warning from "
              f"{UNKNOWN_WARN_SHARE:.0%} unknown frames; ID-free models (entity_ids: false) only warn")
@click.option("--trust-export", is_flag=True, help="load an AOTInductor export (native code) from a folder others can write")
def main(target: Path, input_file, interface, channel, alerts_path: Path | None, force: bool, summary_path, stride,
         batch_windows, chunk_frames, max_delay_ms, idle_exit, threads, status, max_unknown_share: float,
         trust_export: bool) -> None:
    """Score CAN traffic window by window with a trained run (or its export) and write alerts."""
    options = dict(locals())
    with quiet_known_warnings():  # torch_geometric's import-time notice
        from kdgat_train.deployment.detection_run import detect  # torch or onnxruntime: only when it runs

    detect(**options)


if __name__ == "__main__":
    main()
