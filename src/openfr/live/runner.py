"""Running a deployment: one camera worker per camera, each in its own thread, until the time window ends,
every source has ended, or `stop` is set. A camera that fails is reported (bus and log) and retried; it
never brings the deployment down. At the end the counters are saved and, if the window is over, the
deployment closes itself."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from openfr.bus import InProcessBus
from openfr.live import deployments
from openfr.live.alerts import COUNTED, AlertStore
from openfr.live.decision import DecisionPolicy
from openfr.live.setup import frame_rate, live_engine, open_source
from openfr.live.worker import CameraCounters, CameraWorker
from openfr.runtime import Services

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    counters: dict[str, CameraCounters] = field(default_factory=dict)
    health: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    closed: bool = False


def run_deployment(
    svc: Services,
    name: str,
    *,
    bus: InProcessBus | None = None,
    stop: threading.Event | None = None,
    realtime: bool = False,
    actor: str = "system",
    result: RunResult | None = None,
) -> RunResult:
    """`realtime` paces video files at their frame rate, so that a recording stands in for a camera. A
    `result` passed in fills as the cameras run (its counters are the workers' own, live)."""
    bus = bus or InProcessBus()
    stop = stop or threading.Event()
    with svc.db.transaction() as session:
        deployments.close_expired(session)  # housekeeping first: expired windows close, old snapshots go
        deployments.purge_snapshots(session, svc.home, timedelta(hours=svc.settings.live.snapshot_retention_hours))
        deployment = deployments.get(session, name)
        deployments.go_live(deployment, actor=actor)
        deployment_id, ends_at = deployment.id, deployments.aware(deployment.ends_at)
        name = deployment.name  # `name` may have been the id
        watchlist = deployments.load_watchlist(session, svc.home, deployment)
        policy = DecisionPolicy(
            threshold=deployment.threshold,
            consistent_shots=deployment.consistent_shots,
            better_shot_gain=svc.settings.live.better_shot_gain,
            max_embeds_per_track=svc.settings.live.max_embeds_per_track,
            cooldown_s=svc.settings.live.alert_cooldown_s,
        )
        cameras = list(deployment.cameras)
    bus.publish("deployment.live", {"deployment_id": deployment_id, "name": name})
    result = result if result is not None else RunResult()
    store = AlertStore(svc.db, svc.home, bus, deployment_id)

    def window_over() -> bool:
        return stop.is_set() or deployments.now_utc() >= ends_at

    def run_camera(camera: dict) -> None:
        label = camera["name"]

        def on_health(state: str, detail: str) -> None:
            result.health[label] = state
            log.info("deployment %s camera %s: %s %s", name, label, state, detail)
            bus.publish("camera.health", {"deployment_id": deployment_id, "camera": label, "state": state})

        try:
            engine = live_engine(svc.settings)  # one engine per camera: onnxruntime sessions are not shared
            source = open_source(camera["source"], svc.settings, on_health, realtime=realtime)
            worker = CameraWorker(
                label,
                source,
                engine,
                watchlist,
                policy,
                store,
                frame_rate=frame_rate(camera["source"]),
                lost_after_s=svc.settings.live.lost_after_s,
                crop_margin=svc.settings.live.crop_margin,
            )
            result.counters[label] = worker.counters  # live: the statistics read them while it runs
            worker.run(until=window_over)
        except Exception as exc:
            result.errors[label] = f"{type(exc).__name__}: {exc}"
            result.health[label] = "failed"
            log.error("deployment %s camera %s stopped: %s", name, label, result.errors[label])
            bus.publish("camera.health", {"deployment_id": deployment_id, "camera": label, "state": "failed"})

    threads = [threading.Thread(target=run_camera, args=(c,), name=f"camera {c['name']}") for c in cameras]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with svc.db.transaction() as session:
        deployment = deployments.get(session, str(deployment_id))
        totals = dict(deployment.counters or {})
        for label, counters in result.counters.items():
            previous = totals.get(label, {})
            now = counters.as_dict()
            totals[label] = {k: previous.get(k, 0) + now[k] for k in COUNTED}
        deployment.counters = totals
        if deployments.now_utc() >= ends_at:
            deployments.close(deployment, "time window ended")
            result.closed = True
    bus.publish("deployment.stopped", {"deployment_id": deployment_id, "name": name, "closed": result.closed})
    return result
