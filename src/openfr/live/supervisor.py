"""The deployments whose cameras run in this process, each in a background thread.

Pure infrastructure: it starts a run, signals it to stop and reports on it. Who may start or stop what, the
run lease that keeps a deployment to one process, and the audit events belong to the deployment services,
which hand this supervisor a ready-made run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from openfr.live.runner import RunResult

log = logging.getLogger(__name__)


@dataclass
class Run:
    thread: threading.Thread
    stop: threading.Event
    wake: threading.Event = field(default_factory=threading.Event)  # renew the lease now (a watchlist changed)
    result: RunResult = field(default_factory=RunResult)
    error: str | None = None


class CameraSupervisor:
    def __init__(self) -> None:
        self._runs: dict[int, Run] = {}
        self._lock = threading.Lock()

    def launch(self, deployment_id: int, body: Callable[[Run], None]) -> bool:
        """Run `body(run)` in a background thread (it honours run.stop and run.wake, and fills run.result);
        False if this deployment still runs here."""
        with self._lock:
            previous = self._runs.get(deployment_id)
            if previous is not None and previous.thread.is_alive():
                # The caller holds the run lease, so a run still here has released it and is finishing
                # (publishing its last event): let it end rather than refuse the new run.
                previous.thread.join(10)
                if previous.thread.is_alive():
                    return False

            def target() -> None:
                self._guarded(deployment_id, run, body)

            run = Run(
                threading.Thread(target=target, daemon=True, name=f"deployment {deployment_id}"), threading.Event()
            )
            self._runs[deployment_id] = run
            run.thread.start()
            return True

    @staticmethod
    def _guarded(deployment_id: int, run: Run, body: Callable[[Run], None]) -> None:
        try:
            body(run)
        except Exception as exc:  # a failed run is reported, never takes the server down
            run.error = f"{type(exc).__name__}: {exc}"
            log.error("deployment %s stopped: %s", deployment_id, run.error)

    def signal_stop(self, deployment_id: int, wait_s: float = 0.0) -> bool:
        """Ask a run here to stop (workers finish their frame, counters are saved); False if none runs."""
        run = self._runs.get(deployment_id)
        if run is None or not run.thread.is_alive():
            return False
        run.stop.set()
        run.wake.set()
        if wait_s:
            run.thread.join(wait_s)
        return True

    def poke(self, deployment_id: int) -> None:
        """Make a run here renew its lease at once (and pick up a changed watchlist)."""
        run = self._runs.get(deployment_id)
        if run is not None:
            run.wake.set()

    def is_running(self, deployment_id: int) -> bool:
        run = self._runs.get(deployment_id)
        return run is not None and run.thread.is_alive()

    def last_error(self, deployment_id: int) -> str | None:
        run = self._runs.get(deployment_id)
        return run.error if run else None

    def live_counters(self, deployment_id: int) -> dict[str, dict]:
        """Per camera, what the run in progress here has counted so far (empty when none runs here)."""
        run = self._runs.get(deployment_id)
        if run is None or not run.thread.is_alive():
            return {}
        return {label: counters.as_dict() for label, counters in list(run.result.counters.items())}

    def current_run(self, deployment) -> dict[str, dict]:
        """The counters of a deployment's run in progress: live when it runs here, its last checkpoint when
        it runs in another process (empty when none runs)."""
        return self.live_counters(deployment.id) or deployment.run_counters or {}

    def shutdown(self, wait_s: float = 10.0) -> None:
        """Stop every run here; their deployments stay wanted running, so a restarted server resumes them."""
        for run in list(self._runs.values()):
            run.result.shutdown = True
            run.stop.set()
            run.wake.set()
        for run in list(self._runs.values()):
            run.thread.join(wait_s)
