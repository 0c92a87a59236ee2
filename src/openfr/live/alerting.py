"""Alerts: stored durably before anyone is told, then announced on the bus; adjudicated by an operator;
counted in per-deployment statistics.

An alert is a prompt. The operator compares the live crop with the watchlist image and confirms it or
rejects it as a false alert; for a confirmed alert the officer's action is then recorded as the outcome.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from openfr.bus import InProcessBus
from openfr.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from openfr.live.lifecycle import now_utc
from openfr.live.worker import AlertEvidence
from openfr.store import Alert, Database, Deployment
from openfr.store.live_tables import COUNTED, OUTCOMES

log = logging.getLogger(__name__)


class AlertStore:
    """The `on_alert` sink of a deployment's camera workers (thread-safe: one transaction per alert).

    An alert is stored (crop and scene frame written, row committed; both removed again if the commit fails)
    before anyone is told. One that cannot be stored (a full disk, a read-only folder, the database unreachable) is
    never dropped: it waits in memory, in order, and a background thread retries it with growing pauses,
    while the console is told (camera "alert store": failing, then healthy again once the backlog is stored).
    """

    def __init__(self, db: Database, home: Path, bus: InProcessBus, deployment_id: int, *, retry_max_s: float = 10.0):
        self.db, self.home, self.bus, self.deployment_id = db, home, bus, deployment_id
        self.folder = home / "alerts" / str(deployment_id)
        self.retry_max_s = retry_max_s
        self._pending: deque[AlertEvidence] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._retrier: threading.Thread | None = None
        self.failures = 0  # attempts that failed (each alert may fail several times before it is stored)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def __call__(self, evidence: AlertEvidence) -> Alert | None:
        with self._lock:
            if self._pending:  # behind the backlog: alerts are stored in the order they were raised
                self._pending.append(evidence)
                return None
            try:
                return self._store(evidence)
            except Exception as exc:
                self._defer(evidence, exc)
                return None

    def _store(self, evidence: AlertEvidence) -> Alert:
        self.folder.mkdir(parents=True, exist_ok=True)
        crop_path = self.folder / f"{uuid.uuid4().hex}.jpg"
        scene_path = self.home / scene_path_for(crop_path.relative_to(self.home).as_posix())
        try:
            Image.fromarray(evidence.crop).save(crop_path, quality=92)
            if evidence.scene is not None:
                Image.fromarray(evidence.scene).save(scene_path, quality=85)
            with self.db.transaction() as session:
                alert = Alert(
                    deployment_id=self.deployment_id,
                    entry_id=evidence.entry.entry_id,
                    subject_ref=evidence.entry.subject,
                    display_name=evidence.entry.name,
                    category=evidence.entry.category,
                    camera=evidence.camera,
                    track=evidence.track,
                    score=evidence.score,
                    threshold=evidence.threshold,
                    quality=evidence.quality.as_dict(),
                    frame=evidence.frame,
                    stream_time=evidence.stream_time,
                    first_usable_frame=evidence.first_usable_frame,
                    # Measured up to the commit below (the crop is on disk already; the commit takes ~1 ms).
                    time_to_alert_ms=(time.monotonic() - evidence.first_usable_at) * 1000,
                    crop_path=crop_path.relative_to(self.home).as_posix(),
                    state="pending",
                )
                if evidence.replaces is not None:
                    _supersede(session, alert, evidence)
                session.add(alert)
                session.flush()
                summary = alert_summary(alert)
        except BaseException:
            crop_path.unlink(missing_ok=True)  # a crop without its row is an orphan: never leave one
            scene_path.unlink(missing_ok=True)
            raise
        self.bus.publish("alert.created", summary)  # only once it is stored
        return alert

    def _defer(self, evidence: AlertEvidence, exc: Exception) -> None:
        self.failures += 1
        self._pending.append(evidence)
        log.error("deployment %s: an alert could not be stored (%s); it will be retried", self.deployment_id, exc)
        self._health("failing", f"{type(exc).__name__}: alerts are kept in memory and retried")
        if self._retrier is None or not self._retrier.is_alive():
            self._retrier = threading.Thread(target=self._retry, name=f"alert store {self.deployment_id}", daemon=True)
            self._retrier.start()

    def _retry(self) -> None:
        pause = 0.5
        while True:
            self._wake.wait(pause)
            self._wake.clear()
            with self._lock:
                while self._pending:
                    try:
                        self._store(self._pending[0])
                    except Exception as exc:
                        self.failures += 1
                        log.warning("deployment %s: alert store still failing (%s)", self.deployment_id, exc)
                        break
                    self._pending.popleft()
                    pause = 0.5
                if not self._pending:
                    self._health("healthy", "every alert is stored")
                    return
                if self._closing:
                    return
            pause = min(pause * 2, self.retry_max_s)

    def close(self, wait_s: float = 5.0) -> int:
        """A last attempt for the backlog; the number of alerts that could still not be stored (logged)."""
        self._closing = True
        self._wake.set()
        if self._retrier is not None:
            self._retrier.join(wait_s)
        if self._pending:
            log.error("deployment %s: %d alert(s) could not be stored", self.deployment_id, len(self._pending))
        return len(self._pending)

    def _health(self, state: str, detail: str) -> None:
        event = {"deployment_id": self.deployment_id, "camera": "alert store", "state": state, "detail": detail}
        self.bus.publish("camera.health", event)


def scene_path_for(crop_path: str) -> str:
    """Where an alert's scene frame lies (relative to $OPENFR_HOME): beside its crop, named after it, so that
    whatever removes the crop (retention, the start-up sweep) finds it; an alert stored without one has none."""
    return crop_path.removesuffix(".jpg") + ".scene.jpg"


def _supersede(session: Session, alert: Alert, evidence: AlertEvidence) -> None:
    """Link a replacing alert to the track's earlier one; that one, if nobody has decided it yet, needs no
    decision any more (it stays on record, marked superseded)."""
    earlier = session.scalars(
        select(Alert)
        .where(
            Alert.deployment_id == alert.deployment_id,
            Alert.camera == evidence.camera,
            Alert.track == evidence.track,
            Alert.subject_ref == evidence.replaces,
        )
        .order_by(Alert.id.desc())
        .limit(1)
    ).first()
    if earlier is None:
        return
    alert.replaces_id = earlier.id
    if earlier.state == "pending":
        earlier.state = "superseded"


def alert_summary(alert: Alert) -> dict:
    """What the console needs to show an alert (the images are fetched separately, with permission)."""
    return {
        "id": alert.id,
        "deployment_id": alert.deployment_id,
        "subject": alert.subject_ref,
        "name": alert.display_name,
        "category": alert.category,
        "camera": alert.camera,
        "track": alert.track,
        "score": round(alert.score, 4),
        "threshold": alert.threshold,
        "frame": alert.frame,
        "stream_time": round(alert.stream_time, 3),
        "time_to_alert_ms": round(alert.time_to_alert_ms, 1),
        "state": alert.state,
        "replaces": alert.replaces_id,
        "adjudicated_by": alert.adjudicated_by,
        "verified_by": alert.verified_by,
        "outcome": alert.outcome,
        "created_at": alert.created_at.isoformat() if alert.created_at else None,
    }


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id) if 0 < alert_id < 2**63 else None
    if alert is None:
        raise NotFoundError(f"no alert {alert_id}")
    return alert


def adjudicate(session: Session, alert_id: int, *, confirmed: bool, by: str, note: str = "") -> Alert:
    """The operator's decision after comparing the live crop with the watchlist image.

    Under two-person verification (a deployment option) a confirmation by one operator leaves the alert
    awaiting a second, different operator: it counts as confirmed only when they agree, and a disagreement
    rejects it. Dismissing needs one operator: it is the cautious decision."""
    alert = get_alert(session, alert_id)
    two_person = session.scalar(select(Deployment.two_person).where(Deployment.id == alert.deployment_id))
    if alert.state == "awaiting-second":
        if by == alert.adjudicated_by:
            raise PermissionDeniedError(  # separation of duties: a refusal, recorded
                f"alert {alert_id} needs a second operator: {by} confirmed it already; nothing was changed"
            )
        alert.verified_by, alert.verified_at = by, now_utc()
        alert.state = "confirmed" if confirmed else "rejected"
    elif alert.state == "pending":
        alert.adjudicated_by, alert.adjudicated_at = by, now_utc()
        alert.state = ("awaiting-second" if two_person else "confirmed") if confirmed else "rejected"
    else:
        decided = f" by {alert.adjudicated_by}" if alert.adjudicated_by else ""
        raise ConflictError(f"alert {alert_id} was already {alert.state}{decided}")
    if note:
        alert.outcome_note = note
    if alert.state == "rejected":
        alert.outcome = "not-engaged"  # a rejected alert is never acted on
    return alert


def record_outcome(session: Session, alert_id: int, *, outcome: str, by: str, note: str = "") -> Alert:
    """What happened after a confirmed alert."""
    if outcome not in OUTCOMES:
        raise BadInputError(f"outcome must be one of {', '.join(OUTCOMES)}")
    alert = get_alert(session, alert_id)
    if alert.state != "confirmed":
        raise ConflictError(f"alert {alert_id} is {alert.state}: an outcome follows a confirmed alert")
    alert.outcome, alert.outcome_by, alert.outcome_at = outcome, by, now_utc()
    if note:
        alert.outcome_note = note
    return alert


def statistics(session: Session, deployment: Deployment, running: dict[str, dict] | None = None) -> dict:
    """Faces seen, alerts and what became of them, and how long alerts took (for publication). `running`:
    per camera, the counters of a run in progress, added to those stored by earlier runs."""
    alerts = session.scalars(select(Alert).where(Alert.deployment_id == deployment.id)).all()
    cameras = {label: dict(c) for label, c in (deployment.counters or {}).items()}
    for label, now in (running or {}).items():
        before = cameras.get(label, {})
        cameras[label] = {k: before.get(k, 0) + now.get(k, 0) for k in COUNTED}
    ttas = np.array([a.time_to_alert_ms for a in alerts], dtype=float)
    outcomes: dict[str, int] = {}
    for alert in alerts:
        if alert.outcome:
            outcomes[alert.outcome] = outcomes.get(alert.outcome, 0) + 1
    return {
        "deployment": deployment.name,
        "state": deployment.state,
        "frames": sum(c.get("frames", 0) for c in cameras.values()),
        # People, not detections: one passer-by is detected in dozens of frames but followed as one track.
        "faces_seen": sum(c.get("tracks", 0) for c in cameras.values()),
        "detections": sum(c.get("faces", 0) for c in cameras.values()),
        "tracks": sum(c.get("tracks", 0) for c in cameras.values()),
        "alerts": len(alerts),
        "confirmed": sum(a.state == "confirmed" and a.outcome != "engaged-not-the-person" for a in alerts),
        # A false alert: rejected by the operator, or found on engagement not to be the person.
        "false_alerts": sum(a.state == "rejected" or a.outcome == "engaged-not-the-person" for a in alerts),
        "pending": sum(a.state == "pending" for a in alerts),
        "outcomes": outcomes,
        "time_to_alert_ms": {
            "p50": round(float(np.percentile(ttas, 50)), 1) if len(ttas) else None,
            "p95": round(float(np.percentile(ttas, 95)), 1) if len(ttas) else None,
            "max": round(float(ttas.max()), 1) if len(ttas) else None,
        },
        "cameras": cameras,
    }
