"""The ``{domain}_{dataset}_pipeline`` presets: every stage in dependency order, then a comparison table."""
