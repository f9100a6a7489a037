"""The package walls and kdgat-train's layers are import-linter contracts (root pyproject.toml,
``[tool.importlinter]``); this runs them on every test run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--config", str(config), "--no-cache"], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_every_import_contract_is_kept():
    done = _lint(REPO / "pyproject.toml", REPO)
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", done.stdout)
    assert done.returncode == 0 and kept, done.stdout[-3000:] + done.stderr[-2000:]
    assert int(kept.group(1)) >= 5 and int(kept.group(2)) == 0


def test_a_broken_wall_is_reported(tmp_path):
    """The contracts read real imports: kdgat-train imports kdgat-models, so forbidding it must break."""
    text = (REPO / "pyproject.toml").read_text()
    config = tmp_path / "pyproject.toml"
    config.write_text(text + '\n[[tool.importlinter.contracts]]\nname = "planted"\ntype = "forbidden"\n'
                      'source_modules = ["kdgat_train"]\nforbidden_modules = ["kdgat_models"]\n')
    done = _lint(config, REPO)
    assert done.returncode != 0 and "planted BROKEN" in done.stdout.replace("\n", " "), done.stdout[-2000:]
