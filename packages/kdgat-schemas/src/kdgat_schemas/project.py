"""Where a kdgat project lives: the folder holding ``configs/datasets.yaml`` (or ``$KDGAT_PROJECT_ROOT``)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT_ENVIRONMENT_VARIABLE = "KDGAT_PROJECT_ROOT"
CONFIG_ROOT_ENVIRONMENT_VARIABLE = "KDGAT_CONFIG_ROOT"
CATALOG_RELATIVE_PATH = Path("configs") / "datasets.yaml"


def config_root(project_root: Path) -> Path:
    """The folder whose ``configs/`` (catalog, model sizes) is read: ``$KDGAT_CONFIG_ROOT`` (a cluster
    job's frozen code snapshot), else the project root. Data and run paths stay the project root's."""
    override = os.environ.get(CONFIG_ROOT_ENVIRONMENT_VARIABLE)
    return Path(override).resolve() if override else project_root


def find_project_root(start: Path | None = None) -> Path | None:
    """``$KDGAT_PROJECT_ROOT``, else the nearest folder at or above ``start`` (default: cwd) holding
    ``configs/datasets.yaml``; None when there is none."""
    if os.environ.get(ROOT_ENVIRONMENT_VARIABLE):
        return Path(os.environ[ROOT_ENVIRONMENT_VARIABLE]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CATALOG_RELATIVE_PATH).is_file():
            return folder
    return None
