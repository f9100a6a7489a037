"""The cluster CLI as the researcher's notes type it: ``python oscjobmanager.py submit NAME --dry-run``.

Runs exactly the installed `kdgat-cluster` command (also available as `oscjobmanager`), e.g.

    python oscjobmanager.py submit automotive_synthetic_supervised_gat_student_no_all_samples --dry-run
    uv run python oscjobmanager.py sweep --model-sizes student,teacher --distillations no,standard --dry-run

Typed with a Python that lacks the project's packages (outside ``uv run``), it runs itself again with
the project's environment (``.venv`` beside this file), or under ``uv run`` when that is not synced yet.
"""

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _rerun_in_project_environment() -> None:
    venv = ROOT / ".venv"
    python = venv / "bin" / "python"
    if python.is_file() and Path(sys.prefix).resolve() != venv.resolve():
        os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])
    uv = shutil.which("uv")
    if uv is not None and not os.environ.get("KDGAT_OSCJOBMANAGER_RERUN"):
        os.environ["KDGAT_OSCJOBMANAGER_RERUN"] = "1"  # once: never a loop
        os.execv(uv, [uv, "run", "--project", str(ROOT), "python", str(Path(__file__).resolve()), *sys.argv[1:]])
    sys.exit(f"oscjobmanager.py: kdgat-cluster is not installed for {sys.executable} and {ROOT}/.venv is missing: "
             f"run `uv sync` in {ROOT}, then `uv run python oscjobmanager.py ...`")


try:
    from kdgat_cluster.cli import main
except ModuleNotFoundError:
    _rerun_in_project_environment()

if __name__ == "__main__":
    main(prog_name="oscjobmanager.py")
