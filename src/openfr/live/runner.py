"""Running a deployment's cameras: one camera worker per camera, each in its own thread, until the time
window ends, every source has ended, or the run is told to stop.

Each camera is supervised: a worker that fails for any reason (its source, the detector, a bug) is reported
(bus and log) and restarted after a pause that doubles up to `live.backoff_max_s`, for as long as the
deployment runs; one camera's failure never ends the deployment. Alerts go through an AlertStore that never
drops one (it retries what it cannot store yet).

While the cameras run, the calling thread renews the run lease every `live.heartbeat_s` through the
`RunControl` it was given (the deployment services), checkpointing the run's counters at the same time (a
crash loses at most one interval); a stop or close made from any door or process is seen at the next
renewal, and so is a subject deleted from the watchlist (the new snapshot replaces the old one in every
worker). When the cameras end, `RunControl.finish` saves the counters, releases the lease and closes the
deployment if its window is over.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from openfr.bus import InProcessBus
from openfr.live.alerting import AlertStore
from openfr.live.lifecycle import now_utc
from openfr.live.setup import camera_worker, decision_policy
from openfr.live.watchlist import Watchlist
from openfr.live.worker import CameraCounters, CameraWorker
from openfr.logs import redact
from openfr.settings import Settings
from openfr.store import Database

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    counters: dict[str, CameraCounters] = field(default_factory=dict)
    health: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    closed: bool = False
    shutdown: bool = False  # stopped because the server shuts down: the cameras stay wanted (resumed on start)
    unstored_alerts: int = 0
    watchlist_version: int = 0  # the snapshot the cameras search now, and how many subjects it holds
    watchlist_subjects: int = 0


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
    cameras: tuple[tuple[str, str], ...]  # (name, source as stored: a URL sealed, opened by RunControl)
    realtime: bool = False  # pace video files at their frame rate, so a recording stands in for a camera
    watchlist_version: int = 0


@dataclass(frozen=True)
class Renewal:
    keep: bool  # False: the cameras must stop (stopped or closed elsewhere, lease lost)
    watchlist: Watchlist | None = None  # a new snapshot, when the one in use changed
    watchlist_version: int = 0


class RunControl(Protocol):
    def renew(self, spec: RunSpec, counters: dict[str, dict], watchlist_version: int) -> Renewal:
        """Renew the lease and checkpoint the run's counters."""
        ...

    def finish(self, spec: RunSpec, result: RunResult) -> bool:
        """Save counters, release the lease; True if the deployment closed (its window ended)."""
        ...

    def camera_source(self, stored: str) -> str:
        """A camera's source as stored (a URL is sealed: camera_secrets) -> as the connection needs it."""
        ...


@dataclass
class _Cameras:
    """What the supervising thread shares with the camera threads."""

    watchlist: Watchlist
    workers: dict[str, CameraWorker] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def swap(self, watchlist: Watchlist) -> None:
        with self.lock:
            self.watchlist = watchlist
            for worker in self.workers.values():
                worker.watchlist = watchlist  # read once per embedding: the next match uses the new snapshot


def run_cameras(
    spec: RunSpec,
    settings: Settings,
    db: Database,
    home: Path,
    bus: InProcessBus,
    control: RunControl,
    *,
    stop: threading.Event | None = None,
    wake: threading.Event | None = None,
    result: RunResult | None = None,
) -> RunResult:
    """Blocks until the cameras end. A `result` passed in fills as the cameras run (its counters are the
    workers' own, live), which is what a server's statistics read meanwhile; `wake` makes the next lease
    renewal happen at once (a watchlist changed in this process)."""
    stop = stop or threading.Event()
    wake = wake or threading.Event()
    result = result if result is not None else RunResult()
    store = AlertStore(db, home, bus, spec.deployment_id)
    policy = decision_policy(settings, spec.threshold, spec.consistent_shots)
    shared = _Cameras(spec.watchlist)
    version = spec.watchlist_version
    result.watchlist_version, result.watchlist_subjects = version, len(spec.watchlist.subjects)

    def window_over() -> bool:
        return stop.is_set() or now_utc() >= spec.ends_at

    def report(label: str, state: str, detail: str = "") -> None:
        result.health[label] = state
        log.info("deployment %s camera %s: %s %s", spec.name, label, state, detail)
        bus.publish("camera.health", {"deployment_id": spec.deployment_id, "camera": label, "state": state})

    def run_camera(label: str, source: str) -> None:
        counters = result.counters.setdefault(label, CameraCounters())  # live: statistics read them meanwhile
        pause = 1.0
        while not window_over():
            frames_before = counters.frames
            try:
                worker = camera_worker(
                    label,
                    control.camera_source(source),  # opened here, for this connection only
                    settings,
                    shared.watchlist,
                    policy,
                    store,
                    on_health=lambda state, detail: report(label, state, detail),
                    realtime=spec.realtime,
                    counters=counters,
                )
                with shared.lock:
                    shared.workers[label] = worker
                    worker.watchlist = shared.watchlist  # a swap may have happened while it was built
                worker.run(until=window_over)
                return  # the source ended (a file) or the run was told to stop
            except Exception as exc:
                result.errors[label] = redact(f"{type(exc).__name__}: {exc}")
                result.restarts[label] = result.restarts.get(label, 0) + 1
                if counters.frames > frames_before:
                    pause = 1.0  # it had been working: try again soon
                log.error("deployment %s camera %s failed (%s); restarting in %.0f s", spec.name, label, exc, pause)
                report(label, "failed", f"restarting in {pause:.0f} s")
                stop.wait(pause)
                pause = min(pause * 2, settings.live.backoff_max_s)
            finally:
                with shared.lock:
                    shared.workers.pop(label, None)

    bus.publish("deployment.live", {"deployment_id": spec.deployment_id, "name": spec.name})
    threads = [threading.Thread(target=run_camera, args=c, name=f"camera {c[0]}") for c in spec.cameras]
    try:
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            wake.wait(settings.live.heartbeat_s)
            wake.clear()
            if stop.is_set():
                break
            try:
                checkpoint = {label: c.as_dict() for label, c in list(result.counters.items())}
                renewal = control.renew(spec, checkpoint, version)
                if not renewal.keep:
                    stop.set()  # stopped or closed elsewhere, or the lease was lost
                elif renewal.watchlist is not None:
                    shared.swap(renewal.watchlist)
                    version = renewal.watchlist_version
                    result.watchlist_version, result.watchlist_subjects = version, len(renewal.watchlist.subjects)
                    log.info("deployment %s: watchlist snapshot reloaded (version %d)", spec.name, version)
            except Exception as exc:  # the database may be briefly unavailable: the cameras carry on
                log.warning("deployment %s: run lease not renewed (%s)", spec.name, type(exc).__name__)
            if now_utc() >= spec.ends_at:
                stop.set()
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        result.unstored_alerts = store.close()
        result.closed = control.finish(spec, result)
        bus.publish(
            "deployment.stopped", {"deployment_id": spec.deployment_id, "name": spec.name, "closed": result.closed}
        )
    return result
