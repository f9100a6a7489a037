"""`kdgat-cluster tune`: an Optuna search where every trial is one Slurm job.

The study lives in an Optuna journal file (``<runs_root>/.cluster/tune/<study>/journal.log``, with
the open-file lock that works on NFS: no database server). This process asks Optuna for at most
``parallel`` trials at a time, submits each as a job of preset ``name`` with the trial's values as
overrides (rendered, code-frozen and checked like ``submit``), and when a job ends reads the
objective from its run's ``run.json`` (validation metrics unless ``allow_test_objective``) and tells
Optuna: a job that failed, or a run without the metric, is a FAILED trial, and the search goes on.
Running the command again resumes the study (trials still running are picked up, not resubmitted)
until it holds ``trials`` finished trials. optuna is an optional extra: ``kdgat-cluster[tune]``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from kdgat_schemas import RunRecord

from kdgat_cluster.plan import PlanError
from kdgat_cluster.study_worker import StudyBusyError, study_worker

TUNE_FOLDER = Path(".cluster") / "tune"
KINDS = ("float", "logfloat", "int", "categorical")
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
            "DEADLINE"}


@dataclass(frozen=True)
class SearchParameter:
    """One dimension: ``key=float:LOW:HIGH``, ``logfloat:LOW:HIGH``, ``int:LOW:HIGH`` or ``categorical:A,B,...``."""

    key: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> SearchParameter:
        key, _, spec = text.partition("=")
        kind, _, rest = spec.partition(":")
        if not key or kind not in KINDS or not rest:
            raise PlanError(f"--param {text!r}: expected KEY=float:LOW:HIGH, logfloat:LOW:HIGH, int:LOW:HIGH or "
                            "categorical:A,B,... (e.g. distillation_config.alpha=float:0.1:0.9)")
        if kind == "categorical":
            choices = tuple(choice.strip() for choice in rest.split(",") if choice.strip())
            if len(choices) < 2:
                raise PlanError(f"--param {text!r}: a categorical parameter needs at least two choices")
            return cls(key, kind, choices=choices)
        try:
            low, high = (int(v) if kind == "int" else float(v) for v in rest.split(":"))
        except ValueError:
            raise PlanError(f"--param {text!r}: LOW:HIGH must be two {'integers' if kind == 'int' else 'numbers'}") from None
        if not low < high or (kind == "logfloat" and low <= 0):
            raise PlanError(f"--param {text!r}: expected LOW < HIGH{' and LOW > 0' if kind == 'logfloat' else ''}")
        return cls(key, kind, low, high)

    def suggest(self, trial) -> str:
        """The trial's value, as the override's text."""
        if self.kind == "categorical":
            return str(trial.suggest_categorical(self.key, list(self.choices)))
        if self.kind == "int":
            return str(trial.suggest_int(self.key, int(self.low), int(self.high)))
        return repr(trial.suggest_float(self.key, self.low, self.high, log=self.kind == "logfloat"))

    def value_of(self, text: str):
        """``text`` as this dimension's value (for an enqueued trial), checked against its range."""
        if self.kind == "categorical":
            if text not in self.choices:
                raise PlanError(f"--enqueue {self.key}={text}: expected one of {', '.join(self.choices)}")
            return text
        try:
            value = int(text) if self.kind == "int" else float(text)
        except ValueError:
            raise PlanError(f"--enqueue {self.key}={text}: expected a number") from None
        if not self.low <= value <= self.high:
            raise PlanError(f"--enqueue {self.key}={text}: outside {self.low}..{self.high}")
        return value

    def text(self) -> str:
        return f"{self.key}={self.kind}:" + (",".join(self.choices) if self.choices else f"{self.low}:{self.high}")


def study_folder(runs_root: Path, study: str) -> Path:
    return runs_root / TUNE_FOLDER / study


def _optuna():
    try:
        import optuna
    except ImportError:
        raise PlanError("kdgat-cluster tune needs optuna: install the extra (uv sync --extra tune, or "
                        "pip install 'kdgat-cluster[tune]')") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_study(runs_root: Path, study: str, *, direction: str | None = None, create: bool = True,
               seed: int | None = None):
    """The study ``study`` of ``runs_root`` (created when ``create`` and missing)."""
    optuna = _optuna()
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    folder = study_folder(runs_root, study)
    journal = folder / "journal.log"
    if not create and not journal.is_file():
        raise PlanError(f"no study {study!r} under {runs_root} (expected {journal}); start it with kdgat-cluster tune")
    folder.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(str(journal), lock_obj=JournalFileOpenLock(str(journal))))
    if not create:
        return optuna.load_study(study_name=study, storage=storage)
    sampler = optuna.samplers.TPESampler(seed=seed) if seed is not None else None
    return optuna.create_study(study_name=study, storage=storage, direction=direction, load_if_exists=True,
                               sampler=sampler)


def _describe(name: str, parameters: list[SearchParameter], objective: str, direction: str, overrides: list[str]) -> dict:
    return {"preset": name, "parameters": [p.text() for p in parameters], "objective": objective,
            "direction": direction, "overrides": overrides}


def _check_same_search(study, wanted: dict) -> None:
    """A resumed study must search the same space for the same objective."""
    saved = study.user_attrs.get("search")
    if saved is None:
        study.set_user_attr("search", wanted)
        return
    different = [key for key in wanted if saved.get(key) != wanted[key]]
    if different:
        raise PlanError(f"study {study.study_name!r} was started with other {', '.join(different)} "
                        f"({json.dumps({k: saved.get(k) for k in different})}); use another --study name")


def objective_value(run_dir: Path, objective: str) -> float | None:
    """The objective of a finished run (None when the run did not complete or lacks the metric)."""
    try:
        record = RunRecord.read(run_dir)
    except (OSError, ValueError):
        return None
    value = record.metrics.get(objective)
    if record.status != "COMPLETED" or value is None or not math.isfinite(value):
        return None
    return float(value)


def parse_enqueued(text: str, parameters: list[SearchParameter]) -> dict:
    """``KEY=VALUE,KEY=VALUE`` (every --param given a value) as Optuna's fixed parameters."""
    by_key = {p.key: p for p in parameters}
    values = dict(item.split("=", 1) for item in text.split(",") if "=" in item)
    if set(values) != set(by_key):
        raise PlanError(f"--enqueue {text!r}: give a value for each --param ({', '.join(by_key)}), as KEY=VALUE,...")
    return {key: by_key[key].value_of(value) for key, value in values.items()}


def run_study(*, name: str, parameters: list[SearchParameter], trials: int, parallel: int, objective: str,
              direction: str, study_name: str, overrides: list[str], allow_test_objective: bool, submit_trial,
              job_states, runs_root: Path, poll_s: float = 10.0, say=print, seed: int | None = None,
              enqueue: list[dict] = ()):
    """Ask, submit, wait, tell until the study holds ``trials`` finished trials; returns the study.

    ``submit_trial(overrides) -> (job_id, run_dir)`` submits one trial's job (raising `PlanError` for a
    config the cluster refuses: that trial FAILS without a job); ``job_states(ids) -> {id: state}``.
    """
    _optuna()  # a missing optuna is one line before anything else
    if objective.startswith("test/") and not allow_test_objective:
        raise PlanError(f"--objective {objective}: a test-set objective chooses on the test scenarios; "
                        "use a val/ metric, or pass --allow-test-objective (the study is then marked as such)")
    if trials < 1 or parallel < 1:
        raise PlanError("--trials and --parallel must be at least 1")
    study = open_study(runs_root, study_name, direction=direction, seed=seed)
    _check_same_search(study, _describe(name, parameters, objective, direction, overrides))
    try:
        with study_worker(study_folder(runs_root, study_name), study_name):
            return _work(study, parameters=parameters, trials=trials, parallel=parallel, objective=objective,
                         overrides=overrides, submit_trial=submit_trial, job_states=job_states, poll_s=poll_s,
                         say=say, enqueue=enqueue)
    except StudyBusyError as error:
        raise PlanError(str(error)) from None


def _work(study, *, parameters, trials, parallel, objective, overrides, submit_trial, job_states, poll_s, say,
          enqueue):
    """The loop of `run_study`, run while this process holds the study's worker lock."""
    optuna = _optuna()
    for params in enqueue:  # tried first, once (a resumed study does not add them again)
        study.enqueue_trial(params, skip_if_exists=True)
    if objective.startswith("test/"):
        study.set_user_attr("objective_on_test", True)
    # trials a previous (interrupted) call submitted: watched again, never resubmitted
    running = {t.number: optuna.trial.Trial(study, t._trial_id) for t in study.get_trials(deepcopy=False)
               if t.state == optuna.trial.TrialState.RUNNING}
    for number, trial in list(running.items()):
        if "job_id" not in trial.user_attrs:  # asked by a worker that stopped before it submitted the job
            trial.set_user_attr("failure", "its worker stopped before submitting a job for it")
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            say(f"trial {number}: FAILED (its worker stopped before submitting it)")
            del running[number]
            continue
        say(f"trial {number}: picked up (job {trial.user_attrs['job_id']})")
    while True:
        finished = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
        while len(running) < parallel and finished + len(running) < trials:
            trial = study.ask()
            values = [f"{p.key}={p.suggest(trial)}" for p in parameters]
            trial.set_user_attr("overrides", values)
            try:
                job_id, run_dir = submit_trial([*overrides, *values])
            except PlanError as error:
                trial.set_user_attr("failure", str(error).splitlines()[-1][:500])
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                say(f"trial {trial.number}: {' '.join(values)} refused before submission ({error})")
                finished += 1
                continue
            trial.set_user_attr("job_id", job_id)
            trial.set_user_attr("run_dir", str(run_dir))
            running[trial.number] = trial
            say(f"trial {trial.number}: job {job_id} {' '.join(values)}")
        if not running:
            break
        time.sleep(poll_s)
        states = job_states([t.user_attrs["job_id"] for t in running.values()])
        for number, trial in list(running.items()):
            state = states.get(trial.user_attrs["job_id"], "UNKNOWN")
            if state not in TERMINAL:
                continue
            value = objective_value(Path(trial.user_attrs["run_dir"]), objective) if state == "COMPLETED" else None
            if value is None:
                trial.set_user_attr("failure", f"job {state}; no {objective} in a COMPLETED run.json")
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                say(f"trial {number}: FAILED (job {state})")
            else:
                study.tell(trial, value)
                say(f"trial {number}: {objective} = {value:.4f}")
            del running[number]
    return study


def reproduce_command(study) -> str | None:
    """The kdgat-train command line of the study's best trial (None without a completed trial)."""
    search = study.user_attrs.get("search", {})
    try:
        best = study.best_trial
    except ValueError:
        return None
    return " ".join(["uv run kdgat-train", f"config_store={search.get('preset')}", *search.get("overrides", []),
                     *best.user_attrs.get("overrides", [])])
