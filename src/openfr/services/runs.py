"""Running a deployment's cameras: start (in this server's background), run (in the foreground, for the
command line), stop, and resume after a restart; and the run lease the camera runner renews and releases
through this service.

Starting claims the deployment's run lease in the same transaction as its audit event, so two Starts at
once (from two requests, or a server and a command line) cannot both run the cameras; a second Start of a
running deployment changes nothing and says so. A stop is recorded here and reaches the cameras wherever
they run: in this process at once, in another at its next lease renewal (`live.heartbeat_s`). Each renewal
checkpoints the run's counters, so a crash loses at most one interval; a server that starts again resumes
the deployments that were wanted running (or reports them interrupted: `live.on_restart`), audited.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from openfr.bus import InProcessBus
from openfr.engine.pipeline import FaceEngine
from openfr.errors import ConflictError, NotFoundError
from openfr.governance import audit, events
from openfr.governance.permissions import Permission
from openfr.governance.secretbox import SecretBox
from openfr.live import lifecycle
from openfr.live.camera_secrets import reveal
from openfr.live.lifecycle import aware, now_utc
from openfr.live.runner import Renewal, RunResult, RunSpec, run_cameras
from openfr.live.setup import require_camera_networks
from openfr.live.supervisor import CameraSupervisor, Run
from openfr.services.principal import SYSTEM, Principal
from openfr.services.refusals import UseCases, service
from openfr.settings import Settings
from openfr.store import Deployment
from openfr.thresholds import live_calibration

log = logging.getLogger(__name__)
# What claiming a run records: started (by a door, or in the foreground), or resumed after a restart.
_CLAIMED = {"start": events.DeploymentStart, "resume": events.DeploymentResume}


@dataclass
class StartResult:
    deployment: str
    started: bool  # False: it was running already (nothing changed)
    result: RunResult = field(default_factory=RunResult)


@service
class DeploymentRuns(UseCases):
    """Part of DeploymentService (the doors reach it as `app.deployments.start`, ...), and the `RunControl` the
    camera runner renews its lease through."""

    use_case_prefix = "deployments"  # refusals name their use case "deployments.<method>", as the doors call it

    settings: Settings
    home: Path
    cameras: CameraSupervisor
    bus: InProcessBus
    secret_box: Callable[[], SecretBox]
    engine: Callable[[], FaceEngine]  # its calibration: a live run needs one (thresholds.live_calibration)
    # Before each start and at recovery: windows that have ended close, old snapshots go (DeploymentService.purge).
    housekeeping: Callable[[Principal], dict] = field(kw_only=True)

    def start(self, principal: Principal, name: str, *, realtime: bool = True, action: str = "start") -> StartResult:
        """Go live now (authorised, inside its window) and run the cameras in this process's background.
        Idempotent: if it is running already, here or elsewhere, nothing changes."""
        spec = self._claim(principal, name, realtime, action)
        if spec is None:
            return StartResult(name, started=False)
        launched = StartResult(name, started=True)

        def body(run: Run) -> None:
            launched.result = run.result
            run_cameras(
                spec,
                self.settings,
                self.db(),
                self.home,
                self.bus,
                self,
                stop=run.stop,
                wake=run.wake,
                result=run.result,
            )

        if not self.cameras.launch(spec.deployment_id, body):
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
        spec = self._claim(principal, name, realtime, "start")
        if spec is None:
            raise ConflictError(f"deployment '{name}' is running already (in this or another process)")
        return run_cameras(spec, self.settings, self.db(), self.home, self.bus, self, stop=stop, result=result)

    def _claim(self, principal: Principal, name: str, realtime: bool, action: str) -> RunSpec | None:
        principal.require(Permission.DEPLOYMENT_RUN)
        require_camera_networks(self.settings)
        live_calibration(self.engine().card)  # the pack may have changed since authorisation: no live without one
        self.housekeeping(SYSTEM)  # housekeeping first: expired windows close, old snapshots go
        with self.db().transaction() as session:
            d = lifecycle.get(session, name, for_update=True)
            # Running here (even if a busy database delayed its lease renewal) or in another process.
            if self.cameras.is_running(d.id) or lifecycle.running(d, self.settings.live.heartbeat_s):
                return None
            if lifecycle.go_live(d):
                audit.record(session, principal.username, events.DeploymentLive(), f"deployment:{d.name}")
            _settle_crashed_run(d)
            owner = lifecycle.lease_owner()
            lifecycle.claim(d, owner)
            audit.record(session, principal.username, _CLAIMED[action](), f"deployment:{d.name}")
            return RunSpec(
                deployment_id=d.id,
                name=d.name,
                owner=owner,
                ends_at=aware(d.ends_at),
                watchlist=lifecycle.load_watchlist(session, self.home, d, allow_empty=True),
                threshold=d.threshold,
                consistent_shots=d.consistent_shots,
                cameras=tuple((c["name"], c["source"]) for c in d.cameras),  # URLs sealed: see camera_source
                realtime=realtime,
                watchlist_version=d.watchlist_version,
            )

    def stop(self, principal: Principal, name: str, *, wait_s: float = 10.0) -> None:
        """Stop the cameras (the deployment stays live until it is closed or its window ends)."""
        principal.require(Permission.DEPLOYMENT_RUN)
        with self.db().transaction() as session:
            d = lifecycle.get(session, name, for_update=True)
            if not lifecycle.running(d, self.settings.live.heartbeat_s):
                raise ConflictError(f"deployment '{d.name}' is not running")
            d.stop_requested, d.run_wanted = True, False
            audit.record(session, principal.username, events.DeploymentStop(), f"deployment:{d.name}")
            deployment_id = d.id
        self.cameras.signal_stop(deployment_id, wait_s)

    def recover(self, principal: Principal) -> dict:
        """At start-up: every deployment found live, wanted running and not running anywhere (its server
        crashed, or was stopped for an upgrade) is resumed, or, with `live.on_restart = "interrupt"`,
        recorded as interrupted; the counters its last run checkpointed are kept either way."""
        principal.require(Permission.DEPLOYMENT_RUN)
        self.housekeeping(SYSTEM)  # windows that ended while the server was down close first
        heartbeat = self.settings.live.heartbeat_s
        with self.db().transaction() as session:
            found = session.scalars(
                select(Deployment).where(Deployment.state == "live", Deployment.run_wanted.is_(True)).with_for_update()
            ).all()
            waiting = [d for d in found if not lifecycle.running(d, heartbeat) or lifecycle.owner_is_gone(d.run_owner)]
            names = [d.name for d in waiting]
            interrupted = []
            for d in waiting:
                _settle_crashed_run(d)
                d.run_owner, d.run_heartbeat_at = None, None  # its owner is gone: free for the resume below
                if self.settings.live.on_restart == "interrupt":
                    d.run_wanted = False
                    reason = "the server restarted; cameras not resumed (live.on_restart = interrupt)"
                    audit.record(
                        session, principal.username, events.DeploymentInterrupted(), f"deployment:{d.name}", reason
                    )
                    interrupted.append(d.name)
        resumed = []
        if self.settings.live.on_restart == "resume":
            for name in names:
                try:
                    if self.start(principal, name, action="resume").started:
                        resumed.append(name)
                except Exception as exc:  # one deployment that cannot resume never stops the others
                    log.error("deployment %s could not be resumed: %s", name, exc)
        return {"resumed": resumed, "interrupted": interrupted}

    # -- the run lease (called by the runner: openfr itself acting) -----------------------------------------

    def camera_source(self, stored: str) -> str:
        """A camera's source opened from its sealed form, just before the camera connects."""
        return reveal(stored, self.secret_box())

    def renew(self, spec: RunSpec, counters: dict[str, dict], watchlist_version: int) -> Renewal:
        with self.db().transaction() as session:
            d = session.get(Deployment, spec.deployment_id, with_for_update=True)
            if d is None or not lifecycle.renew(d, spec.owner):
                return Renewal(keep=False)
            d.run_counters = counters  # the checkpoint: a crash loses at most one renewal interval
            if d.watchlist_version == watchlist_version:
                return Renewal(keep=True, watchlist_version=watchlist_version)
            watchlist = lifecycle.load_watchlist(session, self.home, d, allow_empty=True)
            return Renewal(keep=True, watchlist=watchlist, watchlist_version=d.watchlist_version)

    def finish(self, spec: RunSpec, result: RunResult) -> bool:
        with self.db().transaction() as session:
            d = session.get(Deployment, spec.deployment_id, with_for_update=True)
            if d is None:
                raise NotFoundError(f"deployment {spec.name} vanished while running")
            if d.run_owner == spec.owner:
                lifecycle.add_counters(d, {label: c.as_dict() for label, c in result.counters.items()})
                d.run_counters = None
            lifecycle.release(d, spec.owner, still_wanted=result.shutdown)
            if now_utc() >= aware(d.ends_at) and lifecycle.close(d, "time window ended"):
                audit.record(
                    session, SYSTEM.username, events.DeploymentClose(), f"deployment:{d.name}", "time window ended"
                )
                return True
            return False


def _settle_crashed_run(deployment: Deployment) -> None:
    """Counters checkpointed by a run that never finished (its process died) join the totals."""
    if deployment.run_counters:
        lifecycle.add_counters(deployment, deployment.run_counters)
        deployment.run_counters = None
