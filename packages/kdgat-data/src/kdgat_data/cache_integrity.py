"""Checksums of a graph cache's files, so a damaged cache is rebuilt instead of reused.

The cache key says which inputs a cache was built from; it says nothing about whether its arrays
are still the ones that were written. A same-size corruption of ``train/x.npy`` (a bad disk, a
partial copy, an edit) would otherwise be reused with the clean manifest hash, and a run would
train on wrong data with the provenance of clean data. Every file of the cache is hashed
(sha256) into the manifest when it is built (so the manifest hash that runs record covers the
arrays) and checked before the cache is reused; a mismatch rebuilds it and says so. Checking
a cache that has not changed since it was last verified in this process costs one ``stat`` per
file.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

from kdgat_data.file_digests import sha256_file

MANIFEST = "manifest.json"
STALE_STAGING_S = 24 * 3600  # a staging folder of unknown owner older than this is abandoned
_VERIFIED: dict[str, tuple] = {}  # cache folder -> the (file, size, mtime) tuple last verified


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def cache_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` but the manifest, by POSIX path relative to it."""
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in _files(folder)}


def cache_damage(folder: Path, recorded: dict[str, str]) -> str | None:
    """What is wrong with the files of the cache at ``folder`` against its ``recorded`` checksums
    (one line), or ``None`` when every file is there, unchanged, and nothing else is."""
    if not recorded:
        return "its manifest records no checksums (an older cache layout)"
    files = _files(folder)
    state = tuple((p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if _VERIFIED.get(str(folder)) == state:
        return None
    present = {name for name, *_ in state}
    missing = sorted(set(recorded) - present)
    if missing:
        return f"{missing[0]} is missing"
    extra = sorted(present - set(recorded))
    if extra:
        return f"{extra[0]} is not part of it"
    for name in sorted(recorded):
        if sha256_file(folder / name) != recorded[name]:
            return f"{name} does not match its checksum"
    _VERIFIED[str(folder)] = state
    return None


def staging_prefix(key: str) -> str:
    """The name prefix of a staging folder: the key, this host and process, so that a staging
    folder left by a killed build can be told from one being written."""
    return f".{key}.{socket.gethostname()}.{os.getpid()}."


def sweep_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders under ``parent`` whose builder is gone: this host's with a dead
    process id, and any older than a day. Returns what was removed."""
    removed = []
    host = socket.gethostname()
    for folder in parent.glob(".*"):
        if not folder.is_dir():
            continue
        parts = folder.name.split(".")  # "", key, host..., pid, random
        pid = int(parts[-2]) if len(parts) >= 5 and parts[-2].isdigit() else None
        owner_host = ".".join(parts[2:-2]) if pid is not None else None
        abandoned = owner_host == host and pid is not None and not _alive(pid)
        try:
            old = time.time() - folder.stat().st_mtime > STALE_STAGING_S
        except FileNotFoundError:
            continue
        if abandoned or old:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
