"""Messages from other libraries made fit for a one-line error: no terminal escape codes, one line.

torch's refusal to unpickle a checkpoint, for one, carries ``\\x1b[1m ... \\x1b[0m`` (bold) in its first
line; quoted in a kdgat error it reached Slurm logs and files as raw escape bytes.
"""

from __future__ import annotations

import click


def plain_text(text: str) -> str:
    """``text`` without ANSI escape sequences (colours, bold): `click.unstyle`."""
    return click.unstyle(text)


def first_line(text: str, limit: int = 200) -> str:
    """The first line of ``text``, plain (`plain_text`), at most ``limit`` characters."""
    lines = plain_text(text).strip().splitlines()
    return lines[0].rstrip()[:limit] if lines else ""
