"""The search space grammar of `kdgat-cluster tune`, enqueued trials, and what a study refuses."""

import optuna
import pytest
from kdgat_cluster.plan import PlanError
from kdgat_cluster.tune import SearchParameter, open_study, parse_enqueued, run_study


def test_each_kind_parses_and_suggests_within_its_range():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    parameters = [SearchParameter.parse("distillation_config.alpha=float:0.1:0.9"),
                  SearchParameter.parse("training_config.learning_rate=logfloat:1e-4:1e-2"),
                  SearchParameter.parse("model_size_config.hidden_dim=int:8:64"),
                  SearchParameter.parse("training_config.loss=categorical:focal,weighted_ce")]
    for _ in range(20):
        trial = study.ask()
        alpha, rate, hidden, loss = (p.suggest(trial) for p in parameters)
        assert 0.1 <= float(alpha) <= 0.9 and 1e-4 <= float(rate) <= 1e-2
        assert 8 <= int(hidden) <= 64 and hidden == str(int(hidden)) and loss in ("focal", "weighted_ce")
        study.tell(trial, 0.0)
    assert parameters[1].text() == "training_config.learning_rate=logfloat:0.0001:0.01"


@pytest.mark.parametrize(("text", "message"), [
    ("distillation_config.alpha=float:0.9:0.1", "LOW < HIGH"), ("x=logfloat:0:1", "LOW > 0"),
    ("x=uniform:0:1", "expected KEY=float"), ("x=int:a:b", "two integers"), ("x=categorical:only", "two choices"),
])
def test_a_bad_dimension_names_itself(text, message):
    with pytest.raises(PlanError, match=message):
        SearchParameter.parse(text)


def test_an_enqueued_trial_gives_every_parameter_a_value_in_range():
    parameters = [SearchParameter.parse("a=int:1:4"), SearchParameter.parse("b=categorical:x,y")]
    assert parse_enqueued("a=2,b=y", parameters) == {"a": 2, "b": "y"}
    with pytest.raises(PlanError, match="give a value for each --param"):
        parse_enqueued("a=2", parameters)
    with pytest.raises(PlanError, match="outside 1..4"):
        parse_enqueued("a=9,b=x", parameters)


def test_a_test_set_objective_needs_the_flag_and_a_resumed_study_its_own_search(tmp_path):
    def never(overrides):
        raise AssertionError("nothing may be submitted")

    common = dict(name="automotive_synthetic_supervised_gat_student_no_all_samples",
                  parameters=[SearchParameter.parse("a=int:1:4")], trials=0, parallel=1, direction="maximize",
                  study_name="s", overrides=[], submit_trial=never, job_states=dict, runs_root=tmp_path,
                  say=lambda message: None)
    with pytest.raises(PlanError, match="allow-test-objective"):
        run_study(objective="test/dos/f1", allow_test_objective=False, **common)
    with pytest.raises(PlanError, match="at least 1"):
        run_study(objective="val/f1", allow_test_objective=False, **common)
    study = open_study(tmp_path, "s", direction="maximize")
    study.set_user_attr("search", {"preset": "other", "parameters": [], "objective": "val/f1",
                                   "direction": "maximize", "overrides": []})
    with pytest.raises(PlanError, match="started with other preset"):
        run_study(objective="val/f1", allow_test_objective=False, **{**common, "trials": 2})


def test_a_second_worker_on_a_live_study_refuses_and_a_dead_workers_unsubmitted_trial_fails(tmp_path):
    """Two `tune` workers on one study used to share its live trials (KeyError 'job_id', more trials than
    asked): the second now refuses with one line; once the first is gone its lock is free, and a trial it
    asked but never submitted is failed, not a crash."""
    import subprocess
    import sys

    from kdgat_cluster.tune import study_folder

    def never(overrides):
        raise AssertionError("nothing may be submitted")

    common = dict(name="automotive_synthetic_supervised_gat_student_no_all_samples",
                  parameters=[SearchParameter.parse("a=int:1:4")], parallel=1, objective="val/f1", direction="maximize",
                  study_name="s", overrides=[], allow_test_objective=False, submit_trial=never, job_states=dict,
                  runs_root=tmp_path, say=lambda message: None)
    study = open_study(tmp_path, "s", direction="maximize")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from kdgat_cluster.study_worker import "
         "study_worker\nwith study_worker(Path(sys.argv[1]), 's'):\n    print('holding', flush=True); time.sleep(120)",
         str(study_folder(tmp_path, "s"))], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(PlanError) as refused:
            run_study(trials=2, **common)
        message = str(refused.value)
        assert f"study 's' is being run by another kdgat-cluster tune (process {holder.pid} on " in message
        assert "\n" not in message and "tune-status s" in message
    finally:
        holder.kill()
        holder.wait()
    study.ask()  # what the first worker had asked, and not submitted, when it died
    finished = run_study(trials=1, **common)
    [trial] = finished.get_trials(deepcopy=False)
    assert trial.state.name == "FAIL" and "stopped before submitting" in trial.user_attrs["failure"]
