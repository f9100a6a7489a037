"""`FileDigests`: sha256 of source captures, remembered across processes while a file is unchanged.

Every run builds its cache key from the sha256 of each source capture, and real captures run to
gigabytes (hashing them cost each quick check about a second per GB). A digest is reused when the
file's size, modification time (ns) and inode are those it was computed for, as git's index and
make do; any write to the file changes its modification time, so the digest is computed again.
The memo is one JSON file (by default ``<cache root>/source_digests.json``) replaced atomically; two
processes writing it at once lose nothing but a remembered digest, which is then computed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_mtime_ns, status.st_ino]


class FileDigests:
    """A persistent ``path -> sha256`` memo, valid while the file's (size, mtime, inode) stays the same.

    Args:
        memo_file: the JSON file that keeps the digests (created on `save`); None keeps them in memory.
    """

    def __init__(self, *, memo_file: Path | None = None) -> None:
        self.memo_file = memo_file
        self._entries: dict[str, dict] = {}
        self._changed = False
        if memo_file is not None and memo_file.is_file():
            try:
                self._entries = json.loads(memo_file.read_text()).get("files", {})
            except (OSError, ValueError, AttributeError):  # unreadable or half-written by a crash: start afresh
                self._entries = {}
        self.computed = 0  # digests computed (not reused) by this memo

    def sha256(self, path: Path) -> str:
        key = str(Path(path).resolve())
        stamp = _stamp(Path(path))
        entry = self._entries.get(key)
        if entry is not None and entry.get("stamp") == stamp:
            return entry["sha256"]
        digest = sha256_file(path)
        self.computed += 1
        self._entries[key] = {"stamp": stamp, "sha256": digest}
        self._changed = True
        return digest

    def save(self) -> None:
        """Write the memo (atomically) when a digest was added; a read-only place is not an error."""
        if self.memo_file is None or not self._changed:
            return
        try:
            self.memo_file.parent.mkdir(parents=True, exist_ok=True)
            staging = self.memo_file.with_name(f".{self.memo_file.name}.{os.getpid()}")
            staging.write_text(json.dumps({"files": self._entries}, indent=1) + "\n")
            os.replace(staging, self.memo_file)
            self._changed = False
        except OSError:
            pass
