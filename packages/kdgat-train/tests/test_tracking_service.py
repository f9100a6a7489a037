"""The MLflow tracking helper: every call lands in the real database, the training process never
imports MLflow, errors come back to the caller, and a dead helper falls back to in-process calls."""

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, logging, sys
    from pathlib import Path
    from kdgat_schemas import ExperimentName, RunPaths
    from kdgat_train import tracking
    from kdgat_train.tracking_service import TrackingServiceError, start_tracking_service, tracking_call

    root = Path(sys.argv[1])
    service = start_tracking_service()
    name = ExperimentName.parse("automotive_synthetic_supervised_gat_student_no_all_samples")
    uri, run_id = tracking_call(tracking.start_mlflow_run, RunPaths(root), name, "student_no_all_samples_run001",
                                {"training_config.seed": 3}, 3)
    for epoch in range(3):  # what RunMetricsLogger sends each epoch, without waiting
        service.send(tracking.log_metrics, uri, run_id, {"train/loss": 1.0 / (epoch + 1)}, epoch)
    service.send(tracking.log_metrics, uri, "no-such-run", {"x": 1.0}, 0)  # fails in the helper, reported later
    warnings = []
    logging.getLogger("kdgat_train.tracking_service").addHandler(type("H", (logging.Handler,), {
        "emit": lambda self, record: warnings.append(record.getMessage())})())
    tracking_call(tracking.set_tags, uri, run_id, {"threshold_rule": "f1"})
    try:
        tracking_call(tracking.set_tags, uri, "no-such-run", {"a": "b"})
        raised = ""
    except TrackingServiceError as error:
        raised = str(error)
    MLFLOW_BEFORE = "mlflow" in sys.modules
    service._process.kill()  # the helper dies: calls go on in this process
    service._process.join()
    tracking_call(tracking.finish_mlflow_run, uri, run_id, "FINISHED")
    print(json.dumps({"run_id": run_id, "mlflow_imported_before_fallback": MLFLOW_BEFORE, "raised": raised,
                      "warnings": warnings, "alive": service.alive}))
""")


def test_the_helper_tracks_into_the_real_database_while_this_process_never_imports_mlflow(tmp_path):
    completed = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                               timeout=300, env={**os.environ, "KDGAT_TRACKING_SERVICE": "1"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    said = json.loads(completed.stdout.strip().splitlines()[-1])
    assert said["mlflow_imported_before_fallback"] is False  # every call so far ran in the helper
    assert "no-such-run" in said["raised"]  # a failed call raises with the helper's message
    assert any("log_metrics" in w and "no-such-run" in w for w in said["warnings"])  # a failed send, reported
    assert said["alive"] is False  # the kill was noticed; the last call ran in-process

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = client.get_run(said["run_id"])
    assert run.info.status == "FINISHED" and run.data.tags["threshold_rule"] == "f1"
    assert run.data.params["training_config.seed"] == "3"
    history = client.get_metric_history(said["run_id"], "train/loss")
    assert [(m.step, round(m.value, 3)) for m in sorted(history, key=lambda m: m.step)] == [(0, 1.0), (1, 0.5), (2, 0.333)]
