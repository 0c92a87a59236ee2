"""Alert use cases: read alerts (a deployment's, the pending ones, those missed by a reconnecting console),
how many await a decision and which deployments run now, the operator's decision, the recorded outcome,
and the images an operator compares (the live crop, the watchlist image, the scene frame).

Every alert is read as a view: the stored summary plus the deployment's name and location (two
deployments' "cam-1" must not look alike), the score's band (`score_band`) and whether a scene frame was
kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openfr.bus import InProcessBus
from openfr.bus.inprocess import Subscription
from openfr.errors import BadInputError, NotFoundError
from openfr.governance import audit, events
from openfr.governance.grants import ViewGrants
from openfr.governance.permissions import Permission
from openfr.live import alerting, lifecycle
from openfr.live.alerting import scene_path_for
from openfr.live.supervisor import CameraSupervisor
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases, service
from openfr.settings import Settings
from openfr.store import Alert, Deployment, WatchlistEntry

WAITING = ("pending", "awaiting-second")  # both still need an operator's decision
IMAGES = ("crop", "watchlist", "scene")
# Score bands, as a share of the room a score has above the deployment's threshold (1 - threshold): the
# same share means the same on every model pack, whose scores sit on different scales.
BORDERLINE_BELOW = 0.05
STRONG_FROM = 0.10


def score_band(score: float, threshold: float) -> dict:
    """The score in words, from the threshold the deployment alerted at: {"label", "meaning", "text"}.

    The threshold is the deployment's, set for its watchlist size so that strangers rarely reach it; how
    far above it a score lies says how unusual it would be for a stranger. Borderline: within
    BORDERLINE_BELOW of the room above the threshold, where most false alerts fall. Strong: STRONG_FROM or
    more. Moderate between. Trade-off: a larger STRONG_FROM keeps "strong" for fewer, clearer alerts but
    asks for extra care on more of them (slower decisions); a smaller one risks operators trusting a word
    more than the images. No band is an identification: the operator still compares the images."""
    room = max(1.0 - threshold, 1e-6)
    share = (score - threshold) / room
    if share < 0:
        label, meaning = "Below threshold", "below the threshold for this watchlist: it should not have alerted"
    elif share < BORDERLINE_BELOW:
        label, meaning = "Borderline", "just above the threshold for this watchlist, where most false alerts fall"
    elif share < STRONG_FROM:
        label, meaning = "Moderate", "clearly above the threshold for this watchlist"
    else:
        label, meaning = "Strong", "well above the threshold for this watchlist"
    text = f"{label} ({score:.3f}; threshold {threshold:.3f}): {meaning}"
    return {"label": label, "meaning": meaning, "text": text}


@service
class AlertService(UseCases):
    use_case_prefix = "alerts"  # refusals name their use case "alerts.<method>"

    settings: Settings
    home: Path
    cameras: CameraSupervisor
    bus: InProcessBus
    view_grants: Callable[[], ViewGrants]

    def of_deployment(self, principal: Principal, deployment: str, *, limit: int | None = None) -> list[dict]:
        """Oldest first; with `limit`, the newest `limit` of them (newest first)."""
        principal.require(Permission.ALERT_READ)
        with self.db().read() as session:
            d = lifecycle.get(session, deployment)
            query = select(Alert).where(Alert.deployment_id == d.id)
            query = query.order_by(Alert.id.desc()).limit(limit) if limit else query.order_by(Alert.id)
            return self._views(session, session.scalars(query))

    def queue(self, principal: Principal, recent: int = 20) -> tuple[list[dict], list[dict]]:
        """(pending alerts, newest first; the `recent` latest decided ones) for the live console."""
        principal.require(Permission.ALERT_READ)
        with self.db().read() as session:
            waiting = Alert.state.in_(WAITING)
            pending = session.scalars(select(Alert).where(waiting).order_by(Alert.id.desc()))
            decided = session.scalars(select(Alert).where(~waiting).order_by(Alert.id.desc()).limit(recent))
            return self._views(session, pending), self._views(session, decided)

    def pending_count(self, principal: Principal) -> int:
        principal.require(Permission.ALERT_READ)
        return self._waiting()

    def awaiting_decision(self, principal: Principal) -> int:
        """How many alerts await an operator's decision: the counter and title badge of those who decide."""
        principal.require(Permission.ALERT_ADJUDICATE)
        return self._waiting()

    def _waiting(self) -> int:
        with self.db().read() as session:
            return session.scalar(select(func.count()).select_from(Alert).where(Alert.state.in_(WAITING))) or 0

    def latest_id(self, principal: Principal) -> int:
        """The newest alert's id (0 if none): a console that shows the page asks the stream for those after."""
        principal.require(Permission.ALERT_READ)
        with self.db().read() as session:
            return session.scalar(select(func.max(Alert.id))) or 0

    def live_now(self, principal: Principal) -> dict:
        """The deployments whose cameras run now (a live lease held, or a run in this process that still holds
        it), with location and camera names, and when this was checked. A live deployment whose cameras were
        stopped is not running: the console's "Live:" line must agree with the feed."""
        principal.require(Permission.ALERT_READ)
        heartbeat = self.settings.live.heartbeat_s
        with self.db().read() as session:
            found = session.scalars(
                select(Deployment)
                .where(Deployment.state == "live", Deployment.run_owner.is_not(None))
                .order_by(Deployment.name)
            ).all()
            running = [
                {"name": d.name, "location": d.location, "cameras": [c["name"] for c in d.cameras]}
                for d in found
                if lifecycle.running(d, heartbeat) or self.cameras.is_running(d.id)
            ]
        return {"deployments": running, "checked_at": lifecycle.now_utc()}

    def subscribe(self, principal: Principal, notify: Callable[[], None] | None = None) -> Subscription:
        """Alerts and camera health as they happen in this process (close the subscription when done)."""
        principal.require(Permission.ALERT_READ)
        return self.bus.subscribe("", maxsize=500, notify=notify)

    def since(self, principal: Principal, last_id: int, limit: int = 500) -> list[dict]:
        """Alerts stored after `last_id`, oldest first: what a reconnecting console missed (the newest
        `limit` of them: a console away for days reloads its page rather than replay a day of cards)."""
        principal.require(Permission.ALERT_READ)
        with self.db().read() as session:
            query = select(Alert).where(Alert.id > last_id).order_by(Alert.id.desc()).limit(limit)
            return self._views(session, reversed(session.scalars(query).all()))

    def get(self, principal: Principal, alert_id: int) -> dict:
        principal.require(Permission.ALERT_READ)
        with self.db().read() as session:
            return self._views(session, [alerting.get_alert(session, alert_id)])[0]

    def shown(self, principal: Principal, views: list[dict]) -> list[dict]:
        """Alert cards a console is about to show, each with its faces (the crop, the scene, the watchlist
        image): recorded as ONE event naming the alerts, and handed the grants their images are fetched with
        (governance/grants.py), so the images add no event of their own."""
        principal.require(Permission.ALERT_READ)
        if not views:
            return views
        with self.db().transaction() as session:
            audit.record(session, principal.username, events.AlertView(alerts=[v["id"] for v in views]), "alerts")
        grants = self.view_grants()
        return [
            {**v, "grants": {which: grants.grant(principal.username, "alert", v["id"], which) for which in IMAGES}}
            for v in views
        ]

    def _views(self, session: Session, rows) -> list[dict]:
        rows = list(rows)
        ids = {a.deployment_id for a in rows}
        query = select(Deployment.id, Deployment.name, Deployment.location).where(Deployment.id.in_(ids))
        where = {d.id: (d.name, d.location) for d in session.execute(query)} if ids else {}
        return [self._view(a, *where.get(a.deployment_id, (str(a.deployment_id), ""))) for a in rows]

    def _view(self, alert: Alert, deployment: str, location: str) -> dict:
        scene = alert.crop_path is not None and (self.home / scene_path_for(alert.crop_path)).is_file()
        return {
            **alerting.alert_summary(alert),
            "deployment": deployment,
            "location": location,
            "band": score_band(alert.score, alert.threshold),
            "scene": scene,
        }

    def decide(self, principal: Principal, alert_id: int, *, confirmed: bool, note: str = "") -> dict:
        """Confirm (the same person) or reject (a false alert), after comparing the two images."""
        principal.require(Permission.ALERT_ADJUDICATE)
        with self.db().transaction() as session:
            alert = alerting.adjudicate(session, alert_id, confirmed=confirmed, by=principal.username, note=note)
            verdict = events.AlertConfirm if confirmed else events.AlertReject
            audit.record(
                session,
                principal.username,
                # state "awaiting-second": the first of two operators under two-person verification
                verdict(deployment_id=alert.deployment_id, score=round(alert.score, 4), state=alert.state),
                f"alert:{alert.id}",
                note,
            )
            return self._views(session, [alert])[0]

    def outcome(self, principal: Principal, alert_id: int, outcome: str, note: str = "") -> dict:
        """What happened after a confirmed alert (engaged, arrested, not the person...)."""
        principal.require(Permission.ALERT_ADJUDICATE)
        with self.db().transaction() as session:
            alert = alerting.record_outcome(session, alert_id, outcome=outcome, by=principal.username, note=note)
            audit.record(session, principal.username, events.AlertOutcome(outcome=outcome), f"alert:{alert.id}", note)
            return self._views(session, [alert])[0]

    def sweep_orphan_crops(self) -> int:
        """Remove alert crops and scene frames that no row references (a crash between writing them and
        committing the row): run at start-up, before any camera runs."""
        root = self.home / "alerts"
        on_disk = {p.relative_to(self.home).as_posix() for p in root.glob("*/*.jpg")} if root.is_dir() else set()
        if not on_disk:
            return 0
        with self.db().read() as session:
            crops = set(session.scalars(select(Alert.crop_path).where(Alert.crop_path.is_not(None))))
        referenced = crops | {scene_path_for(c) for c in crops}
        removed = 0
        for orphan in on_disk - referenced:
            (self.home / orphan).unlink(missing_ok=True)
            removed += 1
        return removed

    def image(self, principal: Principal, alert_id: int, which: str, *, grant: str | None = None) -> Path:
        """The live face crop ('crop'), the scene frame it was cut from ('scene': the face outlined, other
        faces pixelated) or the watchlist image it matched ('watchlist'; gone once the snapshot is erased).
        Every look is recorded: with the grant of the card that showed it (`shown`), by that card's event."""
        principal.require(Permission.ALERT_READ)
        if which not in IMAGES:
            raise BadInputError(f"which image: {', '.join(IMAGES)}")
        with self.db().transaction() as session:
            alert = alerting.get_alert(session, alert_id)
            if which == "crop":
                relative = alert.crop_path
            elif which == "scene":
                relative = scene_path_for(alert.crop_path) if alert.crop_path else None
            else:
                entry = session.get(WatchlistEntry, alert.entry_id) if alert.entry_id else None
                if entry is None:
                    raise NotFoundError("the watchlist snapshot has been erased")
                relative = entry.image_path
            path = self.home / relative if relative else None
            if path is None or not path.is_file():
                raise NotFoundError("no such image")
            # Every look at a face is on record: who saw which alert's image, and when.
            if not self.view_grants().covers(grant, principal.username, "alert", alert.id, which):
                audit.record(session, principal.username, events.AlertImageView(image=which), f"alert:{alert.id}")
        return path
