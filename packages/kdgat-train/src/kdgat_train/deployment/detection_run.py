"""Running ``kdgat-detect``: load the detector (an export, or a run's eager network), read a capture or a
live bus chunk by chunk, write alerts and the summary. `kdgat_train.deployment.detect_cli` parses the
command line and imports this module (and with it torch or onnxruntime) only when it runs."""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import click
import numpy as np
import torch
from kdgat_data.attack_events import find_attack_events
from kdgat_models.scorer_export import EagerScorer, load_scorer

from kdgat_train.deployment.deployment_manifest import (
    MANIFEST_FILE,
    DeploymentManifest,
    DeploymentManifestError,
)
from kdgat_train.deployment.export_run import run_manifest
from kdgat_train.deployment.frame_sources import bus_chunks, file_chunks, read_capture
from kdgat_train.deployment.run_scorer import DeploymentError, scorer_from_run
from kdgat_train.deployment.streaming_detector import StreamingDetector
from kdgat_train.deployment.unknown_traffic import (
    CHUNK_WINDOWS,
    FAMILIAR_COVERAGE,
    UNKNOWN_MIN_FRAMES,
    UNKNOWN_WARN_SHARE,
)
from kdgat_train.evaluation.event_metrics import event_detections, event_metrics
from kdgat_train.evaluation.metrics import binary_metrics
from kdgat_train.known_warnings import quiet_known_warnings


def check_native_code_source(target: Path, manifest, trust_export: bool) -> None:
    """An AOTInductor export is a shared library: loading it runs native code. Refuse one whose folder
    or model file others may write (they could replace the file and its recorded digest together)."""
    if manifest.format != "aoti" or trust_export:
        return
    for path in (target, target / manifest.model_file):
        mode = path.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH) or path.stat().st_uid != os.getuid():
            raise click.ClickException(
                f"{path}: an AOTInductor export is native code that runs when loaded, and this "
                f"{'folder' if path.is_dir() else 'file'} is writable by others or owned by another user: copy the "
                "export to a folder only you can write (chmod go-w), or pass --trust-export")


def load_detector_parts(target: Path, threads: int, trust_export: bool = False):
    """``(scorer, manifest)`` of an export folder (detector.json) or of a COMPLETED run folder (eager).
    An export's model files must match the sha256 digests its manifest recorded, checked before loading."""
    if (target / MANIFEST_FILE).is_file():
        manifest = DeploymentManifest.read(target)
        check_native_code_source(target, manifest, trust_export)
        manifest.verify_model_files(target)
        if manifest.format in ("torchscript", "aoti"):  # torch's threads (onnxruntime always runs on one)
            torch.set_num_threads(max(threads, 1))
        return load_scorer(target / manifest.model_file), manifest
    torch.set_num_threads(max(threads, 1))
    run = scorer_from_run(target)
    manifest = run_manifest(run, export_format="eager", model_file="", parity_windows=0, difference=0.0)
    return EagerScorer(scorer=run.scorer), manifest


class StatusLine:
    """frames/s, windows/s, alerts and added latency on stderr, refreshed every ``every_s`` seconds."""

    def __init__(self, *, enabled: bool, every_s: float = 0.5) -> None:
        self.enabled, self.every_s = enabled, every_s
        self.started = self.shown_at = time.perf_counter()
        self.shown = False

    def show(self, detector, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not force and now - self.shown_at < self.every_s):
            return
        elapsed = max(now - self.started, 1e-9)
        latency = detector.latencies_ms[-50:]
        worst = max(latency) if latency else 0.0
        click.echo(f"\r{detector.frames:,} frames  {detector.frames / elapsed:,.0f} frames/s  "
                   f"{detector.windows_scored / elapsed:,.0f} windows/s  {detector.alerts:,} alerts  "
                   f"latency {worst:.1f} ms   ", err=True, nl=False)
        self.shown_at, self.shown = now, True

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


def replay_metrics(detector, table) -> dict:
    """The window metrics of offline evaluation and the event metrics with each event's delay."""
    windows = detector.windows.arrays()
    arrays = SimpleNamespace(source=np.zeros(len(windows["y"]), np.int64), window_start=windows["window_start"],
                             window_stop=windows["window_start"] + detector.window, end_time=windows["end_time"],
                             y=windows["y"])
    predicted = windows["score"] > detector.threshold
    events = find_attack_events(table.label, table.timestamp, table.attack_type, source=0)
    metrics = binary_metrics(windows["score"], windows["y"], detector.threshold) | event_metrics(predicted, arrays, events)
    detections = event_detections(predicted, arrays, events)
    names = list(table.attack_types)
    for row in detections:
        row["attack_type"] = names[row["attack_type"]] if row["attack_type"] < len(names) else row["attack_type"]
    return {"windows": int(len(windows["y"])), "attack_windows": int(windows["y"].sum()), "metrics": metrics,
            "events": detections}


def unfamiliar_warning(share: float) -> str:
    return (f"warning: {share:.1%} of the frames carry CAN IDs the model never saw in training; scores of "
            "unfamiliar traffic are not reliable detections")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: flush, close, write the summary (then exit 143)."""


def _terminated(signum, frame) -> None:
    raise Terminated


def default_alerts_path(target: Path, manifest, input_file: Path | None, interface: str | None,
                        channel: str | None) -> Path:
    """``RUN_DIR/detect/<capture stem or interface-channel>-<UTC time>/alerts.jsonl``: beside the run the
    model came from when that folder is here and writable, else beside the export (never the current folder)."""
    run_dir = Path(manifest.run_dir) if manifest.run_dir else target
    home = run_dir if run_dir.is_dir() and os.access(run_dir, os.W_OK) else target
    source = input_file.name.split(".")[0] if input_file is not None else f"{interface}-{channel}"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return home / "detect" / f"{source}-{stamp}" / "alerts.jsonl"


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def detect(target: Path, input_file, interface, channel, alerts_path: Path | None, force: bool, summary_path, stride,
         batch_windows, chunk_frames, max_delay_ms, idle_exit, threads, status, max_unknown_share: float,
         trust_export: bool) -> None:
    """The body of ``kdgat-detect`` (its options, parsed by `detect_cli.main`)."""
    if (input_file is None) == (interface is None):
        raise click.UsageError("give exactly one of --input FILE or --interface virtual|socketcan --channel NAME")
    if interface is not None and not channel:
        raise click.UsageError("--interface needs --channel")
    try:
        with quiet_known_warnings():
            scorer, manifest = load_detector_parts(target, threads, trust_export)
        detector = StreamingDetector(scorer=scorer, manifest=manifest, batch_windows=batch_windows,
                                     keep_windows=input_file is not None, stride=stride)
    except (DeploymentError, DeploymentManifestError, ValueError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    problems: list[str] = []

    def problem(message: str) -> None:
        problems.append(message)
        click.echo(f"\nkdgat-detect: {message}", err=True)

    table = None
    if input_file is not None:
        try:
            table, read_report = read_capture(input_file, manifest.reader_options)
        except (ValueError, OSError) as error:
            raise click.ClickException(str(error)) from None
        if read_report.skipped_rows:
            problem(f"skipped {read_report.skipped_rows} malformed rows of {input_file}")
        unknown, coverage = detector.unknown_share_of(table.can_id), detector.known_coverage_of(table.can_id)
        if manifest.entity_ids and unknown > max_unknown_share and coverage < FAMILIAR_COVERAGE:
            raise click.ClickException(
                f"{input_file}: {unknown:.1%} of its frames carry CAN IDs the model never saw in training (more than "
                f"--max-unknown-share {max_unknown_share:.0%}) and only {coverage:.0%} of the training IDs appear: this "
                "is not the vehicle the model was trained on, and its scores would not be detections. Use a model "
                "trained on this vehicle, an ID-free one (catalog entity_ids: false), or --max-unknown-share 1")
        if unknown > UNKNOWN_WARN_SHARE:
            problem(unfamiliar_warning(unknown))
        chunks = file_chunks(table, chunk_frames or CHUNK_WINDOWS * detector.stride)
    else:
        import can

        try:
            bus = can.Bus(interface=interface, channel=channel)
        except (can.CanError, OSError, ValueError) as error:
            raise click.ClickException(f"cannot open {interface} bus {channel!r}: {error}") from None
        chunks = bus_chunks(bus, max_frames=chunk_frames or CHUNK_WINDOWS * detector.stride,
                            max_delay_s=max_delay_ms / 1000, idle_exit_s=idle_exit, problem=problem)
    line = StatusLine(enabled=sys.stderr.isatty() if status is None else status)
    alerts_path = alerts_path or default_alerts_path(target, manifest, input_file, interface, channel)
    summary_path = summary_path or alerts_path.with_name(alerts_path.stem + ".summary.json")
    taken = [path for path in (alerts_path, summary_path) if path.exists()]
    if taken and not force:
        raise click.ClickException(f"{taken[0]} exists: pass --force to overwrite it, or another --alerts path")
    alerts_path.parent.mkdir(parents=True, exist_ok=True)
    interrupted, stopped_by = False, None
    # Ctrl-C (SIGINT) ends the run cleanly even where it was inherited as ignored (a job started with
    # & from a script ignores SIGINT, and Python then raises no KeyboardInterrupt); SIGTERM (systemd,
    # docker stop, scancel) ends it the same way, then exits 143
    previous = {number: signal.signal(number, handler)  # put back afterwards: main() also runs inside other programs
                for number, handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, _terminated))}
    warned_unknown = refused_unknown = False
    started = time.perf_counter()
    with alerts_path.open("w", buffering=1) as alerts_file:
        try:
            for chunk, received_at in chunks:
                for alert in detector.feed(chunk, received_at):
                    alerts_file.write(json.dumps(alert) + "\n")
                line.show(detector)
                share = detector.unknown_share
                if interface is None or detector.frames < UNKNOWN_MIN_FRAMES:
                    continue  # a file was judged whole before scoring
                if not warned_unknown and share > UNKNOWN_WARN_SHARE:
                    warned_unknown = True
                    problem(unfamiliar_warning(share))
                if manifest.entity_ids and share > max_unknown_share and detector.known_coverage < FAMILIAR_COVERAGE:
                    refused_unknown = True
                    problem(f"stopped: {share:.1%} of {detector.frames:,} frames carry CAN IDs the model never saw "
                            f"(more than --max-unknown-share {max_unknown_share:.0%}): this is not the vehicle it was "
                            "trained on")
                    break
        except KeyboardInterrupt as stop:
            interrupted, stopped_by = True, "SIGTERM" if isinstance(stop, Terminated) else "SIGINT"
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            line.show(detector, force=True)
            line.close()
            if interface is not None:
                bus.shutdown()
    elapsed = time.perf_counter() - started
    summary = {
        "target": str(target), "family": manifest.family, "format": manifest.format, "window": detector.window,
        "stride": detector.stride, "threshold": detector.threshold, "threshold_rule": manifest.threshold_rule,
        "frames": detector.frames, "windows": detector.windows_scored, "alerts": detector.alerts,
        "problems": len(problems), "problem_messages": problems, "interrupted": interrupted, "signal": stopped_by,
        "unknown_id_frames": detector.unknown_frames, "unknown_id_share": detector.unknown_share,
        "training_ids_seen_share": detector.known_coverage,
        "seconds": elapsed,
        "frames_per_s": detector.frames / max(elapsed, 1e-9), "windows_per_s": detector.windows_scored / max(elapsed, 1e-9),
        "added_latency_ms_p50": _percentile(detector.latencies_ms, 50),
        "added_latency_ms_p99": _percentile(detector.latencies_ms, 99),
        "added_latency_ms_max": max(detector.latencies_ms, default=float("nan")),
    }
    if table is not None and table.labelled and detector.windows_scored:
        summary["replay"] = replay_metrics(detector, table)
    summary_path.write_text(json.dumps(summary, indent=2, default=float) + "\n")
    click.echo(f"{detector.frames:,} frames, {detector.windows_scored:,} windows (W={detector.window}, "
               f"S={detector.stride}), {detector.alerts:,} alerts -> {alerts_path}")
    click.echo(f"unknown CAN IDs: {detector.unknown_share:.1%} of frames ({detector.unknown_frames:,})")
    click.echo(f"{summary['frames_per_s']:,.0f} frames/s, {summary['windows_per_s']:,.0f} windows/s; added latency "
               f"p50 {summary['added_latency_ms_p50']:.1f} ms, max {summary['added_latency_ms_max']:.1f} ms")
    if "replay" in summary:
        m = summary["replay"]["metrics"]
        click.echo(f"replay: f1 {m['f1']:.3f}  fpr {m['fpr']:.3f}  auroc {m['auroc']:.3f}  events detected "
                   f"{m['events_detected']:.0f}/{m['events']:.0f}  delay median {m['detection_delay_records_median']:.0f} frames")
    click.echo(f"summary -> {summary_path}")
    if interrupted:
        sys.exit(143 if stopped_by == "SIGTERM" else 130)
    if refused_unknown:
        sys.exit(1)
