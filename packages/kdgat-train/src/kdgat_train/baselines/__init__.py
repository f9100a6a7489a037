"""In-harness baselines: per-window statistics detectors with the graph models' windows, splits,
thresholds and evaluation (DESIGN.md §4)."""
