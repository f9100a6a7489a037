"""``kdgat-train``: run one preset (or a ``-m`` sweep) exactly as configured on the command line.

    kdgat-train config_store=automotive_synthetic_unsupervised_vgae_student_no_all_samples device=cpu training_config.epochs=1
    kdgat-train -m config_store=NAME model_size_config.hidden_dim=32,64,128

Nothing heavy is imported until the config has been composed and validated, so ``--help``,
``--cfg job`` and every config error answer at once.
"""

from __future__ import annotations

import atexit
import difflib
import logging
import os
import signal
import sys
from pathlib import Path

from kdgat_data.catalog import find_project_root
from kdgat_schemas import ExperimentName, ExperimentNameError

from kdgat_train.config.preset_names import DEFAULT_PRESET, config_options
from kdgat_train.config.renamed_fields import RenamedFieldError, check_renamed_overrides
from kdgat_train.runs_root_check import RunsRootError, check_runs_root_override


def _project_root() -> Path:
    root = find_project_root()
    if root is None:
        sys.exit("kdgat-train: no configs/datasets.yaml in this folder or its parents; run from the kdgat project")
    return root


def _requested_presets(argv: list[str]) -> list[str] | None:
    """The presets a command line names (``config_store=A`` or a ``-m`` list ``A,B``), each checked
    against the grammar with a message naming the bad token; None when a value is a Hydra sweep
    expression (``glob(...)``) that only Hydra can expand."""
    names: list[str] = []
    for argument in argv:
        if argument.startswith("config_store="):
            value = argument.split("=", 1)[1]
            if any(mark in value for mark in "()[]{}*$"):
                return None
            for name in value.split(","):
                try:
                    ExperimentName.parse(name)
                except ExperimentNameError as error:
                    sys.exit(f"kdgat-train: config_store: {error}")
                names.append(name)
    return names


def _check_presets_exist(requested: list[str], known: list[str]) -> None:
    """An unknown preset named here, before Hydra (which would list only the presets registered)."""
    for name in requested:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            sys.exit(f"kdgat-train: config_store: no preset {name!r} in this project (its catalog, "
                     f"configs/datasets.yaml, makes {len(known)}: kdgat-train --list-presets)"
                     + (f"; did you mean {', '.join(close)}?" if close else ""))


HELP = """usage: kdgat-train [-m] [config_store=PRESET] [GROUP=OPTION ...] [KEY=VALUE ...] [--cfg job] [--hydra-help]
       kdgat-train --list-presets [FILTER ...]

Train one preset, or with -m a sweep (comma-separated values: model_size_config.hidden_dim=32,64,128).
Presets follow {domain}_{dataset}_{learning}_{model}_{size}_{distillation}_{mode}; runs land in
experimentruns/{domain}/{dataset}/.../run_NNN/ and in MLflow (sqlite:///experimentruns/mlflow.db).

examples:
  kdgat-train config_store=automotive_synthetic_unsupervised_vgae_student_no_all_samples device=cpu training_config.epochs=1
  kdgat-train -m config_store=automotive_synthetic_supervised_gat_student_no_all_samples model_size_config.hidden_dim=32,64,128
  kdgat-train --cfg job config_store=...      print the composed config and exit

default: config_store={default}
"""


def _print_help(groups: dict[str, list[str]]) -> None:
    print(HELP.replace("{default}", DEFAULT_PRESET))
    print("config groups (GROUP=OPTION):")
    for group in ("config_store", "model_size_config", "training_config", "dataset_config", "distillation_config", "device"):
        options = sorted(groups.get(group, []))
        shown = options if group != "config_store" else options[:6] + [
            f"... {len(options)} presets in all: kdgat-train --list-presets [FILTER ...]"]
        print(f"  {group}: " + ", ".join(shown))
    print("\nfields of each group: kdgat-train --cfg job [config_store=...]; Hydra's own help: --hydra-help")


def _list_presets(presets: list[str], tokens: list[str]) -> None:
    """Every preset name, or those holding every one of ``tokens`` (``gat student hcrlch``)."""
    names = sorted(presets)
    shown = [name for name in names if all(token in name for token in tokens)]
    print("\n".join(shown))
    print(f"{len(shown)} of {len(names)} presets" + (f" matching {' '.join(tokens)}" if tokens else ""), file=sys.stderr)


def main() -> None:
    requested = _requested_presets(sys.argv[1:])
    try:
        check_runs_root_override(sys.argv[1:])  # before Hydra writes its folder there
        check_renamed_overrides(sys.argv[1:])
    except (RunsRootError, RenamedFieldError) as error:
        sys.exit(f"kdgat-train: {error}")
    # listing needs only the names (no Hydra, no hydra-zen); Hydra's own --help lists every option of
    # every group and takes seconds
    if "--list-presets" in sys.argv[1:]:
        _list_presets(config_options(_project_root())["config_store"], sys.argv[sys.argv.index("--list-presets") + 1:])
        return
    if {"-h", "--help"} & set(sys.argv[1:]):
        _print_help(config_options(_project_root()))
        return

    from hydra_zen import zen
    from kdgat_models.heap_reuse import reuse_freed_memory

    from kdgat_train.config.store import PRIMARY, register
    from kdgat_train.task import train_task

    reuse_freed_memory()  # freed tensors stay in the process: page faults were half of a VGAE scoring step
    presets = register(_project_root(), only_presets=None if requested is None else {*requested, DEFAULT_PRESET})
    _check_presets_exist(requested or [], presets)
    try:
        zen(train_task).hydra_main(config_name=PRIMARY, version_base="1.3", config_path=None)
    except SystemExit as stop:
        _exit_now(stop.code)
    except KeyboardInterrupt:  # Ctrl-C outside a run (a run records KILLED and exits 130 itself)
        _exit_now(128 + signal.SIGINT)
    _exit_now(0)


def _exit_now(code) -> None:
    """Exit without Python's interpreter teardown: with torch, Lightning, PyG and MLflow loaded,
    collecting every module object took 3-4 s after the work was done, and so after Ctrl-C. Runs are
    recorded and closed by then; logs and output are flushed here."""
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # registered exit hooks still run; only the module teardown is skipped
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
