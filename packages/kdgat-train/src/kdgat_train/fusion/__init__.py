"""Fusion: inputs from the frozen VGAE + GAT, the stage builder, the DQN LightningModule and its data, evaluation, comparators."""
