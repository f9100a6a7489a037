"""The detection-quality protocol on the shared real captures (``kdgat-runs protocol``)."""
