"""The parts of ``configs/datasets.yaml`` every package must read the same way: which catalog keys
exist, their domain and their dataset token (the token in experiment names).

Read with PyYAML (no torch, no kdgat-data), so the cluster's login-node install validates names
against the same catalog the training reads; kdgat-data validates each entry's reader settings on
top of this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kdgat_schemas.experiment_name import DOMAINS, ExperimentNameError, dataset_token


class CatalogFileError(ValueError):
    """A catalog file that is missing, is not YAML, or has a bad key, domain or token."""


def read_catalog_entries(path: str | Path) -> dict[str, dict[str, Any]]:
    """The ``datasets:`` mapping of a catalog file (key -> raw entry), each entry a mapping."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise CatalogFileError(f"{path}: cannot read the dataset catalog: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise CatalogFileError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), dict):
        raise CatalogFileError(f"{path}: expected a mapping with a 'datasets' key")
    for key, entry in raw["datasets"].items():
        if not isinstance(entry, dict):
            raise CatalogFileError(f"{path}: datasets.{key}: expected a mapping (domain, path, ...), got {entry!r}")
    return {str(key): entry for key, entry in raw["datasets"].items()}


def catalog_index(path: str | Path, entries: dict[str, dict[str, Any]] | None = None) -> dict[str, tuple[str, str]]:
    """Catalog key -> ``(domain, dataset token)`` of every entry, checked: a known domain (default
    automotive), a token of lower-case letters and digits, and no two entries giving the same
    ``{domain}_{token}`` names."""
    entries = read_catalog_entries(path) if entries is None else entries
    index: dict[str, tuple[str, str]] = {}
    seen: dict[tuple[str, str], str] = {}
    for key, entry in entries.items():
        domain = entry.get("domain", "automotive")
        if domain not in DOMAINS:
            raise CatalogFileError(f"{path}: datasets.{key}.domain: unknown domain {domain!r}; "
                                   f"expected one of {', '.join(DOMAINS)}")
        try:
            token = dataset_token(key)  # every key must give a valid token, even when the entry names its own
            token = token if entry.get("token") is None else str(entry["token"])
        except ExperimentNameError as error:
            raise CatalogFileError(f"{path}: datasets.{key}: {error}") from None
        if dataset_token(token) != token:
            raise CatalogFileError(f"{path}: datasets.{key}.token: {token!r} must be lower-case letters and digits")
        if (domain, token) in seen:
            raise CatalogFileError(f"{path}: datasets.{key} and datasets.{seen[domain, token]} both give "
                                   f"{domain}_{token}_...; set a distinct token")
        seen[domain, token] = key
        index[key] = (domain, token)
    return index
