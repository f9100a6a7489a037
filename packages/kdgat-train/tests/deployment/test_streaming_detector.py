"""The streaming detector builds exactly the offline windows whatever the chunking and stride, reports
the offline metrics of a replayed test capture, and carries frames from a python-can virtual bus
(malformed frames reported and skipped)."""

import json
import threading

import can
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from kdgat_data.domains import FittedDomain, adapter_for
from kdgat_models.scorer_export import EagerScorer
from kdgat_train.deployment.detect_cli import main as detect
from kdgat_train.deployment.export_run import batched_scores, export_run, run_manifest
from kdgat_train.deployment.frame_sources import bus_chunks, file_chunks, read_capture
from kdgat_train.deployment.run_scorer import scorer_from_run
from kdgat_train.deployment.scorer_inputs import scorer_inputs
from kdgat_train.deployment.streaming_detector import StreamingDetector

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gat(student_runs):
    run = scorer_from_run(student_runs["gat"])
    manifest = run_manifest(run, export_format="eager", model_file="", parity_windows=0, difference=0.0)
    return EagerScorer(scorer=run.scorer), manifest


@pytest.mark.parametrize(("stride", "chunk"), [(1, 37), (25, 1000), (70, 53)])
def test_any_chunking_gives_the_windows_and_scores_of_the_offline_builder(gat, dos_capture, stride, chunk):
    scorer, manifest = gat
    table, _ = read_capture(dos_capture, manifest.reader_options)
    table = table.slice(0, 1500)
    detector = StreamingDetector(scorer=scorer, manifest=manifest, batch_windows=64, keep_windows=True, stride=stride)
    alerts = [alert for piece, at in file_chunks(table, chunk) for alert in detector.feed(piece, at)]
    offline = adapter_for("automotive").graphs(table, FittedDomain(vocabulary=manifest.vocabulary), table.attack_type,
                                                manifest.window, stride, 0)
    streamed = detector.windows.arrays()
    np.testing.assert_array_equal(streamed["window_start"], offline.window_start)
    np.testing.assert_allclose(streamed["score"], batched_scores(scorer, offline), atol=1e-6, rtol=0)
    assert [a["first_frame"] for a in alerts] == offline.window_start[streamed["score"] > manifest.threshold].tolist()
    assert detector.frames == len(table) > 500 and len(streamed["score"]) == (len(table) - 50) // stride + 1


def test_an_alert_names_the_ids_of_its_windows_largest_node_scores(gat, dos_capture):
    """Alerts are built per micro-batch: each must name the IDs of its own window's top nodes, scored alone."""
    scorer, manifest = gat
    table, _ = read_capture(dos_capture, manifest.reader_options)
    table = table.slice(0, 1200)
    detector = StreamingDetector(scorer=scorer, manifest=manifest, batch_windows=16, stride=7, top_ids=3)
    alerts = [alert for piece, at in file_chunks(table, 300) for alert in detector.feed(piece, at)]
    assert len(alerts) > 5
    adapter, fitted = adapter_for("automotive"), FittedDomain(vocabulary=manifest.vocabulary)
    for alert in alerts:
        window = table.slice(alert["first_frame"], alert["last_frame"] + 1)
        alone = adapter.graphs(window, fitted, window.attack_type, manifest.window, manifest.window, 0)
        score, node_score = scorer(scorer_inputs(alone, [0]))
        order = np.argsort(-node_score, kind="stable")[:3]
        ids = np.unique(window.can_id)  # a window's nodes are its distinct IDs in ID order
        assert alert["top_ids"] == [f"0x{int(ids[k]):03X}" for k in order]
        np.testing.assert_allclose(alert["top_node_scores"], node_score[order], atol=1e-5)
        assert alert["score"] == pytest.approx(float(score[0]), abs=1e-6)


def test_replaying_a_test_capture_reports_the_offline_metrics_of_its_scenario(student_runs, dos_capture, tmp_path):
    run_dir = student_runs["gat"]
    export = export_run(run_dir, "torchscript", tmp_path / "export", say=lambda message: None).folder
    alerts = tmp_path / "alerts.jsonl"
    result = CliRunner().invoke(detect, [str(export), "--input", str(dos_capture), "--alerts", str(alerts), "--status"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "alerts.summary.json").read_text())
    offline = json.loads((run_dir / "metrics.json").read_text())["test/dos"]
    replay = summary["replay"]["metrics"]
    for metric in ("f1", "fpr", "auroc", "events", "events_detected", "detection_delay_records_median", "false_alarms"):
        assert replay[metric] == pytest.approx(offline[metric], abs=1e-6), metric
    frame = pl.read_parquet(run_dir / "scores.parquet").filter(pl.col("split") == "test/dos")
    lines = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert [a["first_frame"] for a in lines] == frame.filter(pl.col("prediction") == 1)["first_record"].to_list()
    assert lines and set(lines[0]) >= {"time", "first_frame", "last_frame", "score", "threshold", "top_ids"}
    assert all(a["score"] > a["threshold"] and a["top_ids"][0].startswith("0x") for a in lines)
    events = summary["replay"]["events"]
    assert len(events) == offline["events"] and any(e["detected"] and e["delay_records"] >= 0 for e in events)
    assert summary["windows"] == frame.height and "frames/s" in result.output


def test_a_virtual_bus_carries_a_capture_with_attacks_through_the_detector(gat, dos_capture):
    scorer, manifest = gat
    table, _ = read_capture(dos_capture, manifest.reader_options)
    table = table.slice(0, 2000)
    reference = StreamingDetector(scorer=scorer, manifest=manifest)
    expected = [a["first_frame"] for piece, at in file_chunks(table, 500) for a in reference.feed(piece, at)]
    assert expected, "the DoS capture holds attacks the GAT flags"
    channel = f"kdgat-test-{id(table)}"
    receiver = can.Bus(interface="virtual", channel=channel)
    sender = can.Bus(interface="virtual", channel=channel, preserve_timestamps=True)

    def send():
        for k in range(len(table)):
            if k == 700:  # a bus error frame and an over-long frame between two real frames
                sender.send(can.Message(is_error_frame=True, timestamp=float(table.timestamp[k])))
                sender.send(can.Message(arbitration_id=0x123, data=bytes(12), is_fd=True, timestamp=float(table.timestamp[k])))
            dlc = int(table.dlc[k])
            sender.send(can.Message(arbitration_id=int(table.can_id[k]), data=bytes(table.payload[k, :dlc]),
                                    is_extended_id=False, timestamp=float(table.timestamp[k])))

    thread = threading.Thread(target=send)
    thread.start()
    problems: list[str] = []
    detector = StreamingDetector(scorer=scorer, manifest=manifest, batch_windows=8)
    try:
        got = [a["first_frame"] for piece, at in bus_chunks(receiver, max_frames=200, max_delay_s=0.02, idle_exit_s=1.0,
                                                            problem=problems.append) for a in detector.feed(piece, at)]
    finally:
        thread.join()
        receiver.shutdown()
        sender.shutdown()
    assert detector.frames == len(table) and got == expected
    assert len(problems) == 2 and "error frame" in problems[0] and "12 data bytes" in problems[1]
    assert max(detector.latencies_ms) < 1000


class FlakyBus:
    """A bus whose receive fails now and then: python-can's virtual bus never raises, a real adapter does."""

    def __init__(self, messages, fail_at):
        self.messages, self.fail_at, self.calls = list(messages), set(fail_at), 0

    def recv(self, timeout=None):
        self.calls += 1
        if self.calls in self.fail_at:
            raise can.CanOperationError("controller in error-passive state")
        return self.messages.pop(0) if self.messages else None


def test_a_bus_error_while_receiving_is_reported_and_reading_goes_on():
    messages = [can.Message(arbitration_id=0x100 + k % 3, data=bytes([k % 256] * 8), timestamp=k * 0.001) for k in range(30)]
    problems: list[str] = []
    chunks = list(bus_chunks(FlakyBus(messages, fail_at={3, 17}), max_frames=10, max_delay_s=1.0, idle_exit_s=0.2,
                             problem=problems.append))
    assert sum(len(chunk) for chunk, _ in chunks) == 30
    assert len(problems) == 2 and all("bus error while receiving" in p for p in problems)
    assert chunks[0][0].can_id.tolist()[:3] == [0x100, 0x101, 0x102] and chunks[0][0].payload[1].tolist() == [1] * 8
    with pytest.raises(RuntimeError, match="bus errors in a row"):
        list(bus_chunks(FlakyBus([], fail_at=range(1, 1000)), max_frames=10, max_delay_s=0.01, idle_exit_s=None,
                        problem=lambda message: None))
