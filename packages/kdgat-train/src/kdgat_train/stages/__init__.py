"""Training stages: each turns validated `RunSettings` into a finished run folder and MLflow run."""
