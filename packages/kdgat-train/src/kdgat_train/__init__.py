"""kdgat-train: configuration, training stages and tracking."""
