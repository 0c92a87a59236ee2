"""API routers, one per subsystem."""
