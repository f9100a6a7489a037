"""The one writer of the tool's tables: Markdown, CSV, LaTeX booktabs and JSON, each from the same
header and rows. The comparison table, the report over seeds, the cross-dataset matrix and the quality
protocol's tables all write through it, so one escape rule holds for each format."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence

LATEX_ESCAPES = (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"), ("_", r"\_"),
                 ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\^{}"), ("|", r"\textbar{}"))


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table; a ``|`` inside a cell is written ``&#124;``, so it cannot split it."""
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "&#124;") for cell in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV with ``header`` first, one line per row (``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def latex_escape(text: str) -> str:
    """``text`` for a LaTeX table cell: every special character escaped, ``±`` as ``$\\pm$``."""
    for plain, escaped in LATEX_ESCAPES:
        text = text.replace(plain, escaped)
    return text.replace("±", r"$\pm$")


def latex_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, align: str,
                bold: set[tuple[int, int]] = frozenset(), caption: str | None = None) -> str:
    """A booktabs ``tabular`` of escaped cells; ``bold`` holds the (row, column) positions set in bold and
    ``caption`` becomes a ``%`` comment line above it."""
    lines = [r"\begin{tabular}{" + align + "}", r"\toprule", " & ".join(latex_escape(h) for h in header) + r" \\",
             r"\midrule"]
    for i, row in enumerate(rows):
        cells = [latex_escape(str(cell)) for cell in row]
        cells = [r"\textbf{" + cell + "}" if (i, j) in bold else cell for j, cell in enumerate(cells)]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return ("" if caption is None else "% " + latex_escape(caption) + "\n") + "\n".join(lines) + "\n"


def _plain(value: object) -> object:
    """A numpy scalar as the Python number it holds; anything else JSON has no form for is an error."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_text(document: object) -> str:
    """``document`` as indented JSON; numpy scalars are written as numbers, never dropped."""
    return json.dumps(document, indent=2, default=_plain) + "\n"
