"""`atomic_write`: a file is either its old content or its whole new content, never half-written."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def atomic_write(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename it over
    ``path`` (atomic on POSIX). A crash leaves the old file (or none) and no temporary behind; the
    file gets the usual permissions (umask), and concurrent writers never share a temporary."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        temporary.write_text(text)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
