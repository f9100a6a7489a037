"""A full disk said in one line: what could not be written, how much space is left, how to continue.

A checkpoint that does not fit arrives from torch's zip writer as ``RuntimeError: [enforce fail at
inline_container.cc] unexpected pos ...`` rather than ``ENOSPC``, and other writes as an ``OSError``
deep in a traceback. `no_space_error` recognises both (the errno, or almost no space left on the
target's device while the failed write still holds its blocks) and gives the one-line `NoSpaceError`
that ``kdgat-train`` prints.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

NEARLY_FULL_BYTES = 1 << 20  # less than this free beside a failed write: the device is full


class NoSpaceError(OSError):
    """A write failed because the device (or the user's quota) is full (an OSError, as ENOSPC is)."""


def no_space_error(target: Path, error: BaseException, *, resume_dir: Path | None = None) -> NoSpaceError | None:
    """The `NoSpaceError` for ``error`` raised while writing ``target``, or None when the disk is not the cause.

    Call it before removing what the failed write left, so the space it took still counts as used.
    """
    full = isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)
    try:
        free = shutil.disk_usage(target.parent).free
    except OSError:
        free = None
    if not full and (free is None or free >= NEARLY_FULL_BYTES):
        return None
    left = f"{free / 1024:.0f} KiB free" if free is not None else "no space"
    then = f"then continue with resume={resume_dir}" if resume_dir is not None else "then run it again"
    return NoSpaceError(f"no space left on the device of {target.parent} ({left}) while writing {target.name}: "
                        f"free some space (or point runs_root= at a larger disk), {then}")
