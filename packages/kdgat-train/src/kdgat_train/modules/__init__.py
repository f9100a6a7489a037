"""One LightningModule per graph task (VGAE, GAT), each with its network injected; the DQN's is in `kdgat_train.fusion`."""
