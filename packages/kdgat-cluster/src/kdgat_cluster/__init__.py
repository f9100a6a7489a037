"""kdgat-cluster: turns kdgat presets, sweeps and pipelines into Slurm jobs (pydantic + click only)."""
