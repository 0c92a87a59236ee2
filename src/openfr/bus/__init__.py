"""Event bus: stored alerts and camera health are announced here; the console subscribes."""

from openfr.bus.inprocess import Event, InProcessBus

__all__ = ["Event", "InProcessBus"]
