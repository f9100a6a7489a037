"""Matplotlib for the figures a run and a report write, imported on the first figure (about 0.5 s that a
run without plots never pays) and always with the file-only Agg backend (no display on a cluster node)."""

from __future__ import annotations


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
