"""One LightningModule per task, each with its network injected."""
