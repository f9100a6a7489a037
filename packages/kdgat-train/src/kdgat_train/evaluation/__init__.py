"""Evaluation: detection metrics from scores and labels, thresholds chosen on validation only."""
