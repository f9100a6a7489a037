"""``kdgat-detect`` as a user runs it: Ctrl-C flushes and closes the alert file and writes the summary;
wrong arguments and targets get clear errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from kdgat_train.deployment.detect_cli import main as detect

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_closes_the_alert_file_and_writes_the_summary(student_runs, tmp_path, stop, code):
    """Ctrl-C, and SIGTERM as systemd, docker stop and scancel send it: the summary is written either way."""
    alerts = tmp_path / "alerts.jsonl"
    command = [sys.executable, "-m", "kdgat_train.deployment.detect_cli", str(student_runs["vgae"]), "--interface",
               "virtual", "--channel", "nobody-sends-here", "--alerts", str(alerts), "--no-status"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + 240
    while not alerts.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()[1]
    process.send_signal(stop)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    summary = json.loads((tmp_path / "alerts.summary.json").read_text())
    assert summary["interrupted"] is True and summary["frames"] == 0 and summary["family"] == "vgae"
    assert summary["signal"] == stop.name
    assert alerts.read_text() == "" and "summary ->" in stdout and "Traceback" not in stderr


def test_wrong_arguments_and_targets_are_refused_with_the_reason(student_runs, tmp_path):
    runner = CliRunner()
    result = runner.invoke(detect, [str(student_runs["gat"])])
    assert result.exit_code == 2 and "exactly one of --input FILE or --interface" in result.output
    result = runner.invoke(detect, [str(student_runs["gat"]), "--interface", "virtual"])
    assert result.exit_code == 2 and "--interface needs --channel" in result.output
    result = runner.invoke(detect, [str(tmp_path), "--interface", "virtual", "--channel", "x"])
    assert result.exit_code == 1 and "no run.json" in result.output
    (tmp_path / "detector.json").write_text("{}")
    result = runner.invoke(detect, [str(tmp_path), "--interface", "virtual", "--channel", "x"])
    assert result.exit_code == 1 and "detector.json" in result.output and "family" in result.output
