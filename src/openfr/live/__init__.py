"""Live facial recognition: camera sources, tracking, best shots, watchlist matching, alerts, deployments."""
