"""Alert use cases: read alerts (a deployment's, the pending ones, those missed by a reconnecting console),
the operator's decision, the recorded outcome, and the two images an operator compares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from openfr.bus.inprocess import Subscription
from openfr.errors import BadInputError, NotFoundError
from openfr.governance import audit
from openfr.governance.permissions import Permission
from openfr.live import alerts, deployments
from openfr.runtime import Runtime
from openfr.services.principal import Principal
from openfr.store import Alert, WatchlistEntry


class AlertService:
    def __init__(self, runtime: Runtime):
        self.rt = runtime

    def of_deployment(self, principal: Principal, deployment: str, *, limit: int | None = None) -> list[dict]:
        """Oldest first; with `limit`, the newest `limit` of them (newest first)."""
        principal.require(Permission.ALERT_READ)
        with self.rt.db.read() as session:
            d = deployments.get(session, deployment)
            query = select(Alert).where(Alert.deployment_id == d.id)
            query = query.order_by(Alert.id.desc()).limit(limit) if limit else query.order_by(Alert.id)
            return [alerts.alert_summary(a) for a in session.scalars(query)]

    def queue(self, principal: Principal, recent: int = 20) -> tuple[list[dict], list[dict]]:
        """(pending alerts, newest first; the `recent` latest decided ones) for the live console."""
        principal.require(Permission.ALERT_READ)
        with self.rt.db.read() as session:
            waiting = Alert.state.in_(("pending", "awaiting-second"))  # both still need an operator
            pending = session.scalars(select(Alert).where(waiting).order_by(Alert.id.desc()))
            decided = session.scalars(select(Alert).where(~waiting).order_by(Alert.id.desc()).limit(recent))
            return [alerts.alert_summary(a) for a in pending], [alerts.alert_summary(a) for a in decided]

    def pending_count(self, principal: Principal) -> int:
        return len(self.queue(principal, recent=0)[0])

    def subscribe(self, principal: Principal, notify: Callable[[], None] | None = None) -> Subscription:
        """Alerts and camera health as they happen in this process (close the subscription when done)."""
        principal.require(Permission.ALERT_READ)
        return self.rt.bus.subscribe("", maxsize=500, notify=notify)

    def since(self, principal: Principal, last_id: int) -> list[dict]:
        """Alerts stored after `last_id`, oldest first: what a reconnecting console missed."""
        principal.require(Permission.ALERT_READ)
        with self.rt.db.read() as session:
            query = select(Alert).where(Alert.id > last_id).order_by(Alert.id)
            return [alerts.alert_summary(a) for a in session.scalars(query)]

    def get(self, principal: Principal, alert_id: int) -> dict:
        principal.require(Permission.ALERT_READ)
        with self.rt.db.read() as session:
            return alerts.alert_summary(alerts.get_alert(session, alert_id))

    def decide(self, principal: Principal, alert_id: int, *, confirmed: bool, note: str = "") -> dict:
        """Confirm (the same person) or reject (a false alert), after comparing the two images."""
        principal.require(Permission.ALERT_ADJUDICATE)
        with self.rt.db.transaction() as session:
            alert = alerts.adjudicate(session, alert_id, confirmed=confirmed, by=principal.username, note=note)
            audit.record(
                session,
                principal.username,
                "alert.confirm" if confirmed else "alert.reject",
                f"alert:{alert.id}",
                note,
                deployment_id=alert.deployment_id,
                score=round(alert.score, 4),
                state=alert.state,  # "awaiting-second": the first of two operators under two-person verification
            )
            return alerts.alert_summary(alert)

    def outcome(self, principal: Principal, alert_id: int, outcome: str, note: str = "") -> dict:
        """What happened after a confirmed alert (engaged, arrested, not the person...)."""
        principal.require(Permission.ALERT_ADJUDICATE)
        with self.rt.db.transaction() as session:
            alert = alerts.record_outcome(session, alert_id, outcome=outcome, by=principal.username, note=note)
            audit.record(session, principal.username, "alert.outcome", f"alert:{alert.id}", note, outcome=outcome)
            return alerts.alert_summary(alert)

    def sweep_orphan_crops(self) -> int:
        """Remove alert crops that no row references (a crash between writing a crop and committing its
        row): run at start-up, before any camera runs."""
        root = self.rt.home / "alerts"
        on_disk = {p.relative_to(self.rt.home).as_posix() for p in root.glob("*/*.jpg")} if root.is_dir() else set()
        if not on_disk:
            return 0
        with self.rt.db.read() as session:
            referenced = set(session.scalars(select(Alert.crop_path).where(Alert.crop_path.is_not(None))))
        removed = 0
        for orphan in on_disk - referenced:
            (self.rt.home / orphan).unlink(missing_ok=True)
            removed += 1
        return removed

    def image(self, principal: Principal, alert_id: int, which: str) -> Path:
        """The live face crop ('crop') or the watchlist image it matched ('watchlist'; gone once the
        snapshot is erased)."""
        principal.require(Permission.ALERT_READ)
        if which not in ("crop", "watchlist"):
            raise BadInputError("which image: crop or watchlist")
        with self.rt.db.transaction() as session:
            alert = alerts.get_alert(session, alert_id)
            if which == "crop":
                relative = alert.crop_path
            else:
                entry = session.get(WatchlistEntry, alert.entry_id) if alert.entry_id else None
                if entry is None:
                    raise NotFoundError("the watchlist snapshot has been erased")
                relative = entry.image_path
            path = self.rt.home / relative if relative else None
            if path is None or not path.is_file():
                raise NotFoundError("no such image")
            # Every look at a face is on record: who saw which alert's image, and when.
            audit.record(session, principal.username, "alert.image.view", f"alert:{alert.id}", image=which)
        return path
