"""Running a deployment's cameras: start (in this server's background), run (in the foreground, for the
command line), stop; and the run lease the camera runner renews and releases through this service.

Starting claims the deployment's run lease in the same transaction as its audit event, so two Starts at
once (from two requests, or a server and a command line) cannot both run the cameras; a second Start of a
running deployment changes nothing and says so. A stop is recorded here and reaches the cameras wherever
they run: in this process at once, in another at its next lease renewal (`live.heartbeat_s`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from openfr.errors import ConflictError, NotFoundError
from openfr.governance import audit
from openfr.governance.permissions import Permission
from openfr.live import alerts, deployments
from openfr.live.deployments import aware, now_utc
from openfr.live.runner import RunResult, RunSpec, run_cameras
from openfr.runtime import Runtime
from openfr.services.principal import SYSTEM, Principal
from openfr.store import Deployment


@dataclass
class StartResult:
    deployment: str
    started: bool  # False: it was running already (nothing changed)
    result: RunResult = field(default_factory=RunResult)


class DeploymentRuns:
    """Part of DeploymentService (which brings `rt` and `purge`)."""

    rt: Runtime
    purge: Callable[[Principal], dict]  # housekeeping before each start: expired windows close, snapshots go

    # -- running ----------------------------------------------------------------------------------------

    def start(self, principal: Principal, name: str, *, realtime: bool = True) -> StartResult:
        """Go live now (authorised, inside its window) and run the cameras in this process's background.
        Idempotent: if it is running already, here or elsewhere, nothing changes."""
        spec = self._claim(principal, name, realtime)
        if spec is None:
            return StartResult(name, started=False)
        launched = StartResult(name, started=True)

        def body(stop: threading.Event, result: RunResult) -> None:
            launched.result = result
            run_cameras(spec, self.rt.settings, self.rt.db, self.rt.home, self.rt.bus, self, stop=stop, result=result)

        if not self.rt.cameras.launch(spec.deployment_id, body):
            self.finish(spec, RunResult())  # cannot happen while the lease is held; give it back regardless
            return StartResult(name, started=False)
        return launched

    def run(
        self,
        principal: Principal,
        name: str,
        *,
        stop: threading.Event | None = None,
        realtime: bool = False,
        result: RunResult | None = None,
    ) -> RunResult:
        """Go live and run the cameras in the foreground until the window or the sources end, or `stop`.
        A `result` passed in fills while the cameras run."""
        spec = self._claim(principal, name, realtime)
        if spec is None:
            raise ConflictError(f"deployment '{name}' is running already (in this or another process)")
        rt = self.rt
        return run_cameras(spec, rt.settings, rt.db, rt.home, rt.bus, self, stop=stop, result=result)

    def _claim(self, principal: Principal, name: str, realtime: bool) -> RunSpec | None:
        principal.require(Permission.DEPLOYMENT_RUN)
        self.purge(SYSTEM)  # housekeeping first: expired windows close, old snapshots go
        with self.rt.db.transaction() as session:
            d = deployments.get(session, name, for_update=True)
            # Running here (even if a busy database delayed its lease renewal) or in another process.
            if self.rt.cameras.is_running(d.id) or deployments.running(d, self.rt.settings.live.heartbeat_s):
                return None
            if deployments.go_live(d):
                audit.record(session, principal.username, "deployment.live", f"deployment:{d.name}")
            owner = uuid.uuid4().hex
            deployments.claim(d, owner)
            audit.record(session, principal.username, "deployment.start", f"deployment:{d.name}")
            return RunSpec(
                deployment_id=d.id,
                name=d.name,
                owner=owner,
                ends_at=aware(d.ends_at),
                watchlist=deployments.load_watchlist(session, self.rt.home, d),
                threshold=d.threshold,
                consistent_shots=d.consistent_shots,
                cameras=tuple((c["name"], c["source"]) for c in d.cameras),
                realtime=realtime,
            )

    def stop(self, principal: Principal, name: str, *, wait_s: float = 10.0) -> None:
        """Stop the cameras (the deployment stays live until it is closed or its window ends)."""
        principal.require(Permission.DEPLOYMENT_RUN)
        with self.rt.db.transaction() as session:
            d = deployments.get(session, name, for_update=True)
            if not deployments.running(d, self.rt.settings.live.heartbeat_s):
                raise ConflictError(f"deployment '{d.name}' is not running")
            d.stop_requested = True
            audit.record(session, principal.username, "deployment.stop", f"deployment:{d.name}")
            deployment_id = d.id
        self.rt.cameras.signal_stop(deployment_id, wait_s)

    # -- the run lease (called by the runner: openfr itself acting) -----------------------------------------

    def renew(self, spec: RunSpec) -> bool:
        with self.rt.db.transaction() as session:
            d = session.get(Deployment, spec.deployment_id, with_for_update=True)
            return d is not None and deployments.renew(d, spec.owner)

    def finish(self, spec: RunSpec, result: RunResult) -> bool:
        with self.rt.db.transaction() as session:
            d = session.get(Deployment, spec.deployment_id, with_for_update=True)
            if d is None:
                raise NotFoundError(f"deployment {spec.name} vanished while running")
            totals = dict(d.counters or {})
            for label, counters in result.counters.items():
                previous, now = totals.get(label, {}), counters.as_dict()
                totals[label] = {k: previous.get(k, 0) + now[k] for k in alerts.COUNTED}
            d.counters = totals
            deployments.release(d, spec.owner)
            if now_utc() >= aware(d.ends_at) and deployments.close(d, "time window ended"):
                audit.record(session, SYSTEM.username, "deployment.close", f"deployment:{d.name}", "time window ended")
                return True
            return False
