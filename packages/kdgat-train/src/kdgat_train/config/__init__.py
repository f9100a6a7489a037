"""Settings, preset names and the Hydra store: parsed and validated without torch."""
