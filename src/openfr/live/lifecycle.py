"""Deployment lifecycle: draft -> authorised -> live -> closed, the run lease, and the erasure of the watchlist
snapshot.

The rules are the safeguards: a deployment names its grounds, approved watchlist categories, location and
why it was chosen, a time window, cameras, a threshold no lower than the model's calibrated one, and the
public notice given. Another person must authorise it; authorisation freezes the watchlist as a snapshot of
the subjects that meet the criteria, each image with its provenance. It can only go live once authorised
and inside its window, and it closes itself when the window ends. The snapshot is erased a set time after
closing. These functions work inside the caller's transaction; the deployment services check permissions,
own the transactions and write the audit events.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from openfr.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError, SafeguardMissingError
from openfr.governance import ranks
from openfr.governance.secretbox import SecretBox
from openfr.live.camera_secrets import stored_camera
from openfr.live.watchlist import WatchEntry, Watchlist
from openfr.names import check_name
from openfr.store import Deployment, Gallery, SourceImage, Subject, Template, WatchlistEntry, WatchlistMember
from openfr.store.live_tables import CATEGORIES, COUNTED, NOTICES
from openfr.thresholds import check_threshold

DEFAULT_WINDOW = timedelta(hours=8)  # a deployment planned without an end runs for one shift
# A window "starting now" typed into a form a few minutes ago, or sent from a clock slightly behind, still
# starts now; anything earlier would authorise scanning that has (or has not) already happened.
START_GRACE = timedelta(minutes=10)


class DeploymentStateError(ConflictError):
    """The deployment is not in a state that allows this step."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time openfr stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class DeploymentPlan:
    """What a deployment asks to do. Unset start: now; unset end: DEFAULT_WINDOW after the start; unset
    threshold: the installation's default (never below the calibrated floor)."""

    name: str
    grounds: str
    categories: list[str]
    source_gallery: str
    location: str
    location_rationale: str
    cameras: dict[str, str]  # camera name -> source (file, URL, webcam index)
    public_notice: dict[str, str]  # NOTICES kind -> what was done
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    threshold: float | None = None  # None: the live floor for the watchlist's size, set at authorisation
    consistent_shots: int = 1
    two_person: bool = False  # an alert counts as confirmed only when a second operator agrees

    def resolve(self, now: datetime, default_threshold: float) -> None:
        """Fill the defaults: the window, and the threshold (the live floor for the watchlist as it would be
        snapshotted now; authorisation raises it if the watchlist has grown meanwhile)."""
        self.starts_at = aware(self.starts_at or now)
        self.ends_at = aware(self.ends_at or self.starts_at + DEFAULT_WINDOW)
        if self.threshold is None:
            self.threshold = default_threshold

    def check(self, floor: float, *, now: datetime | None = None, max_window: timedelta | None = None) -> None:
        """Every missing safeguard, in one message (call after `resolve`): with `now`, the window must start now
        or later; with `max_window`, it lasts at most that."""
        p: list[str] = []
        try:
            self.name = check_name("deployment", self.name)
        except BadInputError as exc:
            p.append(str(exc))
        for text, label in ((self.grounds, "grounds"), (self.location, "location")):
            if not text.strip():
                p.append(f"{label} must be given")
        if not self.source_gallery.strip():
            p.append("the gallery to draw the watchlist from must be named")
        if not self.location_rationale.strip():
            p.append("the reason for choosing the location must be given")
        unknown = sorted(set(self.categories) - set(CATEGORIES))
        if not self.categories or unknown:
            p.append(f"watchlist categories must be chosen from {', '.join(CATEGORIES)} (got {unknown or 'none'})")
        assert self.starts_at is not None and self.ends_at is not None
        if aware(self.ends_at) <= aware(self.starts_at):
            p.append("the time window must end after it starts")
        elif max_window is not None and aware(self.ends_at) - aware(self.starts_at) > max_window:
            hours = max_window.total_seconds() / 3600
            p.append(f"the time window may last at most {hours:g} h (live.max_window_hours): plan the rest separately")
        if now is not None and aware(self.starts_at) < now - START_GRACE:
            p.append(f"the time window must start now or later, not {aware(self.starts_at):%Y-%m-%d %H:%M} UTC")
        if not self.cameras:
            p.append("at least one camera is needed")
        elif any(not name.strip() for name in self.cameras):
            p.append("every camera needs a name")
        if not self.public_notice:
            p.append(f"the public notice given must be recorded ({', '.join(NOTICES)})")
        elif bad := sorted(set(self.public_notice) - set(NOTICES)):
            p.append(f"unknown kinds of public notice: {', '.join(bad)}")
        try:
            check_threshold(self.threshold, floor)  # type: ignore[arg-type]
        except BadInputError as exc:
            p.append(str(exc))
        if not 1 <= self.consistent_shots <= 10:
            p.append("consistent shots must be between 1 and 10")
        if p:
            raise SafeguardMissingError("; ".join(p))


def create(
    session: Session,
    plan: DeploymentPlan,
    *,
    created_by: str,
    floor: float,
    box: SecretBox,
    now: datetime | None = None,
    max_window: timedelta | None = None,
) -> Deployment:
    """A draft deployment; camera URLs are stored sealed with `box` (camera_secrets). The planning service
    passes `now` and `max_window` (the window's bounds); a caller recording history (tests, imports) does not."""
    plan.check(floor, now=now, max_window=max_window)
    if session.scalar(select(Deployment.id).where(Deployment.name == plan.name)) is not None:
        raise ConflictError(f"a deployment named '{plan.name}' exists")
    if session.scalar(select(Gallery.id).where(Gallery.name == plan.source_gallery)) is None:
        raise BadInputError(f"no gallery named '{plan.source_gallery}' to draw the watchlist from")
    deployment = Deployment(
        name=plan.name,
        state="draft",
        grounds=plan.grounds,
        categories=sorted(set(plan.categories)),
        source_gallery=plan.source_gallery,
        location=plan.location,
        location_rationale=plan.location_rationale,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        cameras=[stored_camera(n.strip(), s, box) for n, s in plan.cameras.items()],
        threshold=plan.threshold,
        consistent_shots=plan.consistent_shots,
        two_person=plan.two_person,
        public_notice=plan.public_notice,
        created_by=created_by,
        counters={},
        stop_requested=False,
    )
    session.add(deployment)
    session.flush()
    return deployment


def get(session: Session, name: str, *, for_update: bool = False) -> Deployment:
    """The deployment by name (never by id: a name is all a person types)."""
    query = select(Deployment).where(Deployment.name == name)
    deployment = session.scalar(query.with_for_update() if for_update else query)
    if deployment is None:
        raise NotFoundError(f"no deployment named '{name}'")
    return deployment


def watchlist_rows(session: Session, gallery: str, categories: list[str], space: str):
    """(subject, image, template) of every enrolled image a snapshot of `categories` would take."""
    return session.execute(watchlist_rows_query(gallery, categories, space)).all()


def watchlist_rows_query(gallery: str, categories: list[str], space: str):
    return (
        select(Subject, SourceImage, Template)
        .join(Gallery, Gallery.id == Subject.gallery_id)
        .join(SourceImage, SourceImage.subject_id == Subject.id)
        .join(Template, Template.image_id == SourceImage.id)
        .where(
            Gallery.name == gallery,
            Subject.category.in_(categories),
            SourceImage.status == "enrolled",
            Template.space == space,
        )
        .order_by(Subject.id, SourceImage.id)
    )


def subjects_in_watchlist(session: Session, gallery: str, categories: list[str], space: str) -> int:
    """How many people a snapshot taken now would hold: what the live threshold depends on."""
    query = watchlist_rows_query(gallery, categories, space).with_only_columns(func.count(distinct(Subject.id)))
    return session.scalar(query.order_by(None)) or 0


# What the authorising officer confirms, item by item, before authorising: every item is required, and the
# statements confirmed are recorded with the decision (in its audit event), so the record shows what was
# weighed, not only who signed. Keys are what the doors send (`--confirm KEY`, `{"checklist": {KEY: true}}`).
AUTHORISATION_CHECKLIST: dict[str, str] = {
    "necessity": "Necessity and proportionality considered: the grounds justify live facial recognition here, "
    "and less intrusive means were weighed.",
    "watchlist": "The watchlist's categories and size, as shown, match the grounds.",
    "notice": "Signage and public notice are in place before the cameras start.",
    "threshold": "The threshold and the false alerts it is expected to raise at this watchlist size, "
    "including the rates by demographic group, are understood.",
}


def confirmed_checklist(answers: Mapping[str, bool] | None) -> dict[str, str]:
    """The checklist's statements when every item is answered yes (True, not merely truthy); otherwise a
    BadInputError naming the items not confirmed, or any item that is not on the checklist."""
    answers = dict(answers or {})
    if unknown := sorted(set(answers) - set(AUTHORISATION_CHECKLIST)):
        raise BadInputError(
            f"unknown checklist item(s): {', '.join(unknown)} (the items are {', '.join(AUTHORISATION_CHECKLIST)})"
        )
    if missing := [key for key in AUTHORISATION_CHECKLIST if answers.get(key) is not True]:
        raise SafeguardMissingError(
            f"confirm every item of the authorisation checklist before authorising (not confirmed: "
            f"{', '.join(missing)}); nothing was changed"
        )
    return dict(AUTHORISATION_CHECKLIST)


def check_rank(rank: str | None, minimum: str) -> None:
    """The authorising officer's recorded rank is at least `minimum` (governance/ranks.py)."""
    if not ranks.at_least(rank, minimum):
        raise PermissionDeniedError(
            f"authorising a deployment needs the rank of {ranks.label(minimum).lower()} or above; your account "
            f"records {ranks.label(rank).lower()} (an administrator sets the rank, a second one approves it)"
        )


def check_authorisable(deployment: Deployment, officer: str) -> None:
    """A draft, whose window has not ended, planned by someone else: what authorising (and looking at the
    faces of the watchlist it would take) requires."""
    if deployment.state != "draft":
        raise DeploymentStateError(f"deployment '{deployment.name}' is {deployment.state}, not a draft")
    if officer == deployment.created_by:
        raise PermissionDeniedError("a deployment must be authorised by an officer other than the one who created it")
    if aware(deployment.ends_at) <= now_utc():
        raise DeploymentStateError(f"deployment '{deployment.name}' has a time window that has already ended")


def authorise(
    session: Session,
    home: Path,
    deployment: Deployment,
    officer: str,
    note: str,
    space: str,
    floor_for: Callable[[int], float],
    checklist: Mapping[str, bool] | None = None,
    *,
    rank: str | None = None,
) -> tuple[int, int, float | None]:
    """Record the authorising officer and freeze the watchlist snapshot; returns (entries, subjects, the
    threshold it had if it was raised to the live floor for the snapshot's size, else None). `checklist`:
    the officer's answers to AUTHORISATION_CHECKLIST, every one True (checked after the state, so a plan
    that cannot be authorised says why first)."""
    check_authorisable(deployment, officer)
    confirmed_checklist(checklist)
    rows = watchlist_rows(session, deployment.source_gallery, deployment.categories, space)
    if not rows:
        raise BadInputError(
            f"no subject in gallery '{deployment.source_gallery}' is in the categories "
            f"{', '.join(deployment.categories)} with a template for {space}"
        )
    folder = snapshot_dir(home, deployment.id)
    folder.mkdir(parents=True, exist_ok=True)
    for subject, image, template in rows:
        source = home / image.stored_path
        copy = folder / source.name
        shutil.copyfile(source, copy)  # the snapshot's own copy: the gallery may change, the snapshot may not
        session.add(
            WatchlistEntry(
                deployment_id=deployment.id,
                subject_ref=subject.external_id,
                display_name=subject.display_name,
                category=subject.category,
                legal_basis=subject.legal_basis,
                source=subject.source,
                image_sha256=image.sha256,
                image_provenance=image.provenance,
                image_path=copy.relative_to(home).as_posix(),
                space=template.space,
                vector=template.vector,
            )
        )
    members: dict[int, WatchlistMember] = {}
    now = now_utc()
    for subject, _, _ in rows:
        if subject.id in members:
            members[subject.id].images += 1
            continue
        members[subject.id] = WatchlistMember(
            deployment_id=deployment.id,
            subject_ref=subject.external_id,
            display_name=subject.display_name,
            category=subject.category,
            gallery=deployment.source_gallery,
            images=1,
            listed_at=now,
        )
    session.add_all(members.values())
    raised_from = None
    floor = floor_for(len(members))
    if deployment.threshold < floor:
        # The watchlist grew since the plan: a threshold set for fewer people would raise more false alerts.
        raised_from, deployment.threshold = deployment.threshold, floor
    deployment.state, deployment.space, deployment.watchlist_size = "authorised", space, len(members)
    deployment.authorised_by, deployment.authorised_at, deployment.authorisation_note = officer, now, note
    deployment.authorised_rank = rank
    return len(rows), len(members), raised_from


def go_live(deployment: Deployment, now: datetime | None = None) -> bool:
    """Authorised and inside its window -> live (True); already live -> False; anything else is refused."""
    now = now or now_utc()
    if deployment.state == "live":
        return False
    if deployment.state != "authorised":
        raise DeploymentStateError(
            f"deployment '{deployment.name}' is {deployment.state}: only an authorised one can go live"
        )
    if not aware(deployment.starts_at) <= now < aware(deployment.ends_at):
        raise DeploymentStateError(
            f"deployment '{deployment.name}' may only run from {aware(deployment.starts_at):%Y-%m-%d %H:%M} to "
            f"{aware(deployment.ends_at):%Y-%m-%d %H:%M} UTC"
        )
    deployment.state, deployment.live_at = "live", now
    return True


def close(deployment: Deployment, reason: str, now: datetime | None = None) -> bool:
    """Closed now (True), or already closed (False). Its cameras stop at their next lease renewal."""
    if deployment.state == "closed":
        return False
    deployment.state, deployment.closed_at, deployment.close_reason = "closed", now or now_utc(), reason
    return True


def expired(session: Session, now: datetime | None = None, *, for_update: bool = False) -> list[Deployment]:
    """Deployments not yet closed whose window has ended (`for_update`: their rows locked, in id order)."""
    now = now or now_utc()
    query = select(Deployment).where(Deployment.state != "closed", Deployment.ends_at <= now).order_by(Deployment.id)
    return list(session.scalars(query.with_for_update() if for_update else query))


def snapshots_due(
    session: Session, retention: timedelta, now: datetime | None = None, *, for_update: bool = False
) -> list[Deployment]:
    """Closed deployments whose snapshot has outlived `retention` and is not yet erased."""
    now = now or now_utc()
    query = (
        select(Deployment)
        .where(
            Deployment.state == "closed",
            Deployment.snapshot_erased_at.is_(None),
            Deployment.closed_at <= now - retention,
        )
        .order_by(Deployment.id)
    )
    return list(session.scalars(query.with_for_update() if for_update else query))


def erase_snapshot(session: Session, deployment: Deployment, now: datetime | None = None) -> None:
    """Delete the snapshot's entries (templates included); the image copies under `snapshot_dir` go after the
    commit. Alerts keep their crop and subject reference; their link to the entry is cleared."""
    for entry in session.scalars(select(WatchlistEntry).where(WatchlistEntry.deployment_id == deployment.id)):
        session.delete(entry)
    deployment.snapshot_erased_at = now or now_utc()
    session.flush()


def remove_from_snapshots(session: Session, gallery: str, subject_ref: str) -> list[tuple[Deployment, list[str]]]:
    """Take a subject deleted from `gallery` out of every watchlist snapshot drawn from it that still exists
    (running ones included: their version moves on, and their cameras reload the snapshot). Returns each
    deployment changed with the image copies to remove after the commit."""
    rows = session.execute(
        select(Deployment, WatchlistEntry)
        .join(WatchlistEntry, WatchlistEntry.deployment_id == Deployment.id)
        .where(Deployment.source_gallery == gallery, WatchlistEntry.subject_ref == subject_ref)
        .order_by(Deployment.id)
        .with_for_update()
    ).all()
    changed: dict[int, tuple[Deployment, list[str]]] = {}
    for deployment, entry in rows:
        changed.setdefault(deployment.id, (deployment, []))[1].append(entry.image_path)
        session.delete(entry)
    for deployment, _ in changed.values():
        deployment.watchlist_version = (deployment.watchlist_version or 0) + 1
    members = select(WatchlistMember).where(
        WatchlistMember.deployment_id.in_(list(changed)),
        WatchlistMember.subject_ref == subject_ref,
        WatchlistMember.removed_at.is_(None),
    )
    for member in session.scalars(members):
        member.removed_at = now_utc()
    session.flush()
    return list(changed.values())


def snapshot_dir(home: Path, deployment_id: int) -> Path:
    return home / "deployments" / str(deployment_id) / "watchlist"


def load_watchlist(session: Session, home: Path, deployment: Deployment, *, allow_empty: bool = False) -> Watchlist:
    """The snapshot as a camera searches it. Empty is refused unless `allow_empty` (every subject deleted
    from the gallery since authorisation: the cameras run and alert on no one)."""
    entries = session.scalars(
        select(WatchlistEntry).where(WatchlistEntry.deployment_id == deployment.id).order_by(WatchlistEntry.id)
    ).all()
    if not entries and not (allow_empty and deployment.snapshot_erased_at is None and deployment.space):
        raise DeploymentStateError(f"deployment '{deployment.name}' has no watchlist snapshot")
    return Watchlist(
        [WatchEntry(e.subject_ref, e.display_name, e.category, home / e.image_path, e.id) for e in entries],
        np.stack([np.frombuffer(e.vector, dtype="<f4") for e in entries]) if entries else np.zeros((0, 0), np.float32),
        entries[0].space if entries else str(deployment.space),
    )


# The run lease: one process at a time runs a deployment's cameras. The owner renews it every
# `live.heartbeat_s`; one not renewed for LEASE_MISSES renewals is free (the process that held it is gone).
# Generous, because a renewal can wait behind other writers on a busy database.
LEASE_MISSES = 5


def running(deployment: Deployment, heartbeat_s: float, now: datetime | None = None) -> bool:
    """Whether some process holds a live lease on the deployment's cameras."""
    if deployment.run_owner is None or deployment.run_heartbeat_at is None:
        return False
    return (now or now_utc()) - aware(deployment.run_heartbeat_at) < timedelta(seconds=heartbeat_s * LEASE_MISSES)


def lease_owner() -> str:
    """A new lease token that names this process: host:pid:random."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def owner_is_gone(owner: str | None) -> bool:
    """Whether the process that holds a lease is known to be dead (on this host): a restarted server need
    not wait for the lease to go stale."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:30] or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(deployment: Deployment, owner: str, now: datetime | None = None) -> None:
    deployment.run_owner, deployment.run_heartbeat_at, deployment.stop_requested = owner, now or now_utc(), False
    deployment.run_wanted = True


def renew(deployment: Deployment, owner: str, now: datetime | None = None) -> bool:
    """Renew the lease; False when the cameras must stop (stopped or closed from anywhere, lease lost)."""
    if deployment.run_owner != owner or deployment.stop_requested or deployment.state != "live":
        return False
    deployment.run_heartbeat_at = now or now_utc()
    return True


def release(deployment: Deployment, owner: str, *, still_wanted: bool = False) -> None:
    """Give the lease back; `still_wanted` (a server shutting down) leaves the cameras to be resumed."""
    if deployment.run_owner == owner:
        deployment.run_owner, deployment.run_heartbeat_at, deployment.stop_requested = None, None, False
        deployment.run_wanted = still_wanted and deployment.state == "live"


def add_counters(deployment: Deployment, run: dict[str, dict]) -> None:
    """Fold one run's per-camera counters into the deployment's totals."""
    totals = dict(deployment.counters or {})
    for label, now in run.items():
        previous = totals.get(label, {})
        totals[label] = {k: previous.get(k, 0) + now.get(k, 0) for k in COUNTED}
    deployment.counters = totals
