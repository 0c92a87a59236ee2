"""Running a deployment's cameras: one camera worker per camera, each in its own thread, until the time
window ends, every source has ended, or the run is told to stop. A camera that fails is reported (bus and
log); it never brings the deployment down.

While the cameras run, the calling thread renews the run lease every `live.heartbeat_s` through the
`RunControl` it was given (the deployment services): a stop or close made from any door or process is seen
at the next renewal. When the cameras end, `RunControl.finish` saves the counters, releases the lease and
closes the deployment if its window is over.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from openfr.bus import InProcessBus
from openfr.live.alerts import AlertStore
from openfr.live.deployments import now_utc
from openfr.live.setup import camera_worker, decision_policy
from openfr.live.watchlist import Watchlist
from openfr.live.worker import CameraCounters
from openfr.settings import Settings
from openfr.store import Database

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    counters: dict[str, CameraCounters] = field(default_factory=dict)
    health: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    closed: bool = False


@dataclass(frozen=True)
class RunSpec:
    """Everything a run needs, read in the transaction that claimed the run lease."""

    deployment_id: int
    name: str
    owner: str  # the run lease token
    ends_at: datetime
    watchlist: Watchlist
    threshold: float
    consistent_shots: int
    cameras: tuple[tuple[str, str], ...]  # (name, source)
    realtime: bool = False  # pace video files at their frame rate, so a recording stands in for a camera


class RunControl(Protocol):
    def renew(self, spec: RunSpec) -> bool:
        """Renew the lease; False when the cameras must stop."""
        ...

    def finish(self, spec: RunSpec, result: RunResult) -> bool:
        """Save counters, release the lease; True if the deployment closed (its window ended)."""
        ...


def run_cameras(
    spec: RunSpec,
    settings: Settings,
    db: Database,
    home: Path,
    bus: InProcessBus,
    control: RunControl,
    *,
    stop: threading.Event | None = None,
    result: RunResult | None = None,
) -> RunResult:
    """Blocks until the cameras end. A `result` passed in fills as the cameras run (its counters are the
    workers' own, live), which is what a server's statistics read meanwhile."""
    stop = stop or threading.Event()
    result = result if result is not None else RunResult()
    store = AlertStore(db, home, bus, spec.deployment_id)
    policy = decision_policy(settings, spec.threshold, spec.consistent_shots)

    def window_over() -> bool:
        return stop.is_set() or now_utc() >= spec.ends_at

    def run_camera(label: str, source: str) -> None:
        def on_health(state: str, detail: str) -> None:
            result.health[label] = state
            log.info("deployment %s camera %s: %s %s", spec.name, label, state, detail)
            bus.publish("camera.health", {"deployment_id": spec.deployment_id, "camera": label, "state": state})

        try:
            worker = camera_worker(
                label, source, settings, spec.watchlist, policy, store, on_health=on_health, realtime=spec.realtime
            )
            result.counters[label] = worker.counters  # live: the statistics read them while it runs
            worker.run(until=window_over)
        except Exception as exc:
            result.errors[label] = f"{type(exc).__name__}: {exc}"
            result.health[label] = "failed"
            log.error("deployment %s camera %s stopped: %s", spec.name, label, result.errors[label])
            bus.publish("camera.health", {"deployment_id": spec.deployment_id, "camera": label, "state": "failed"})

    bus.publish("deployment.live", {"deployment_id": spec.deployment_id, "name": spec.name})
    threads = [threading.Thread(target=run_camera, args=c, name=f"camera {c[0]}") for c in spec.cameras]
    try:
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            if stop.wait(settings.live.heartbeat_s):
                break
            try:
                if not control.renew(spec):
                    stop.set()  # stopped or closed elsewhere, or the lease was lost
            except Exception as exc:  # the database may be briefly unavailable: the cameras carry on
                log.warning("deployment %s: run lease not renewed (%s)", spec.name, type(exc).__name__)
            if now_utc() >= spec.ends_at:
                stop.set()
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        result.closed = control.finish(spec, result)
        bus.publish(
            "deployment.stopped", {"deployment_id": spec.deployment_id, "name": spec.name, "closed": result.closed}
        )
    return result
