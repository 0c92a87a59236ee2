"""Deployments running inside the server process (`openfr serve`), sharing its bus with the console.

Starting checks the deployment can go live before returning, so the person who pressed Start hears why
not; the run itself is a background thread (one per camera inside it). Stopping is graceful: workers
finish their frame and the counters are saved. A deployment runs at most once at a time.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from openfr.bus import InProcessBus
from openfr.errors import BadInputError
from openfr.governance import audit
from openfr.live import deployments
from openfr.live.runner import RunResult, run_deployment
from openfr.runtime import Services

log = logging.getLogger(__name__)


@dataclass
class _Run:
    thread: threading.Thread
    stop: threading.Event
    result: RunResult = field(default_factory=RunResult)
    error: str | None = None


class DeploymentManager:
    def __init__(self, services: Services, bus: InProcessBus):
        self.services, self.bus = services, bus
        self._runs: dict[int, _Run] = {}
        self._lock = threading.Lock()

    def start(self, name: str, actor: str) -> int:
        """Go live now (authorised, inside its window) and run every camera in the background."""
        with self.services.db.transaction() as session:
            deployment = deployments.get(session, name)
            deployment_id = deployment.id
            with self._lock:
                if self.is_running(deployment_id):
                    raise deployments.DeploymentStateError(f"deployment '{deployment.name}' is already running")
            deployments.go_live(deployment, actor=actor)  # raises, with the reason, if it may not
            audit.record(session, actor, "deployment.start", f"deployment:{deployment.name}")
        stop = threading.Event()
        run = _Run(threading.Thread(target=self._run, args=(deployment_id, actor), daemon=True), stop)
        with self._lock:
            self._runs[deployment_id] = run
        run.thread.name = f"deployment {deployment_id}"
        run.thread.start()
        return deployment_id

    def _run(self, deployment_id: int, actor: str) -> None:
        run = self._runs[deployment_id]
        try:
            # Files are paced like cameras here: the console is for watching a deployment as it happens.
            run_deployment(
                self.services,
                str(deployment_id),
                bus=self.bus,
                stop=run.stop,
                realtime=True,
                actor=actor,
                result=run.result,
            )
        except Exception as exc:  # a failed run is reported, never takes the server down
            run.error = f"{type(exc).__name__}: {exc}"
            log.error("deployment %s stopped: %s", deployment_id, run.error)
            self.bus.publish("deployment.stopped", {"deployment_id": deployment_id, "error": run.error})

    def stop(self, name: str, actor: str, *, wait_s: float = 10.0) -> None:
        with self.services.db.transaction() as session:
            deployment = deployments.get(session, name)
            run = self._runs.get(deployment.id)
            if run is None or not run.thread.is_alive():
                raise BadInputError(f"deployment '{deployment.name}' is not running")
            audit.record(session, actor, "deployment.stop", f"deployment:{deployment.name}")
        run.stop.set()
        run.thread.join(wait_s)

    def is_running(self, deployment_id: int) -> bool:
        run = self._runs.get(deployment_id)
        return run is not None and run.thread.is_alive()

    def last_result(self, deployment_id: int) -> _Run | None:
        return self._runs.get(deployment_id)

    def live_counters(self, deployment_id: int) -> dict[str, dict]:
        """Per camera, what the run in progress has counted so far (empty when not running): the stored
        counters are only updated when a run ends."""
        if not self.is_running(deployment_id):
            return {}
        run = self._runs[deployment_id]
        return {label: counters.as_dict() for label, counters in list(run.result.counters.items())}

    def shutdown(self, wait_s: float = 10.0) -> None:
        for run in list(self._runs.values()):
            run.stop.set()
        for run in list(self._runs.values()):
            run.thread.join(wait_s)
