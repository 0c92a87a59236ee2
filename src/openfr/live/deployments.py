"""Deployment lifecycle: draft -> authorised -> live -> closed, and the erasure of its watchlist snapshot.

The rules are the safeguards: a deployment names its grounds, approved watchlist categories, location and
why it was chosen, a time window, cameras, a threshold no lower than the model's calibrated one, and the
public notice given. Another person must authorise it; authorisation freezes the watchlist as a snapshot of
the subjects that meet the criteria, each image with its provenance. It can only go live once authorised
and inside its window, and it closes itself when the window ends. The snapshot is erased a set time after
closing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from openfr.errors import BadInputError
from openfr.governance import audit
from openfr.live.watchlist import WatchEntry, Watchlist
from openfr.store import Deployment, Gallery, SourceImage, Subject, Template, WatchlistEntry
from openfr.store.live import CATEGORIES, NOTICES


class DeploymentStateError(BadInputError):
    """The deployment is not in a state that allows this step."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time openfr stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class DeploymentPlan:
    name: str
    grounds: str
    categories: list[str]
    source_gallery: str
    location: str
    location_rationale: str
    starts_at: datetime
    ends_at: datetime
    cameras: dict[str, str]  # camera name -> source (file, URL, webcam index)
    threshold: float
    public_notice: dict[str, str]  # NOTICES kind -> what was done
    created_by: str
    consistent_shots: int = 1

    def check(self, min_threshold: float) -> None:
        """Every missing safeguard, in one message."""
        p: list[str] = []
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
        if aware(self.ends_at) <= aware(self.starts_at):
            p.append("the time window must end after it starts")
        if not self.cameras:
            p.append("at least one camera is needed")
        if not self.public_notice:
            p.append(f"the public notice given must be recorded ({', '.join(NOTICES)})")
        elif bad := sorted(set(self.public_notice) - set(NOTICES)):
            p.append(f"unknown kinds of public notice: {', '.join(bad)}")
        if self.threshold < min_threshold:
            p.append(f"threshold {self.threshold} is below the model's calibrated {min_threshold:.3f} (locked)")
        if self.consistent_shots < 1:
            p.append("consistent shots must be at least 1")
        if p:
            raise BadInputError("; ".join(p))


def create(session: Session, plan: DeploymentPlan, *, min_threshold: float) -> Deployment:
    plan.check(min_threshold)
    if session.scalar(select(Deployment.id).where(Deployment.name == plan.name)) is not None:
        raise BadInputError(f"a deployment named '{plan.name}' exists")
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
        starts_at=aware(plan.starts_at),
        ends_at=aware(plan.ends_at),
        cameras=[{"name": n, "source": s} for n, s in plan.cameras.items()],
        threshold=plan.threshold,
        consistent_shots=plan.consistent_shots,
        public_notice=plan.public_notice,
        created_by=plan.created_by,
        counters={},
    )
    session.add(deployment)
    session.flush()
    audit.record(
        session,
        plan.created_by,
        "deployment.create",
        f"deployment:{plan.name}",
        plan.grounds,
        categories=deployment.categories,
        location=plan.location,
        threshold=plan.threshold,
        starts_at=deployment.starts_at.isoformat(),
        ends_at=deployment.ends_at.isoformat(),
        cameras=sorted(plan.cameras),
        public_notice=sorted(plan.public_notice),
    )
    return deployment


def get(session: Session, name_or_id: str) -> Deployment:
    query = select(Deployment).where(
        Deployment.id == int(name_or_id) if name_or_id.isdigit() else Deployment.name == name_or_id
    )
    deployment = session.scalar(query)
    if deployment is None:
        raise BadInputError(f"no deployment '{name_or_id}'")
    return deployment


def authorise(session: Session, home: Path, deployment: Deployment, officer: str, note: str, space: str) -> int:
    """Record the authorising officer and freeze the watchlist snapshot; returns the number of entries."""
    if deployment.state != "draft":
        raise DeploymentStateError(f"deployment '{deployment.name}' is {deployment.state}, not a draft")
    if not officer.strip() or officer == deployment.created_by:
        raise BadInputError("a deployment must be authorised by an officer other than the one who created it")
    if aware(deployment.ends_at) <= now_utc():
        raise DeploymentStateError(f"deployment '{deployment.name}' has a time window that has already ended")
    rows = session.execute(
        select(Subject, SourceImage, Template)
        .join(Gallery, Gallery.id == Subject.gallery_id)
        .join(SourceImage, SourceImage.subject_id == Subject.id)
        .join(Template, Template.image_id == SourceImage.id)
        .where(
            Gallery.name == deployment.source_gallery,
            Subject.category.in_(deployment.categories),
            SourceImage.status == "enrolled",
            Template.space == space,
        )
        .order_by(Subject.id, SourceImage.id)
    ).all()
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
    deployment.state, deployment.space = "authorised", space
    deployment.authorised_by, deployment.authorised_at, deployment.authorisation_note = officer, now_utc(), note
    audit.record(
        session,
        officer,
        "deployment.authorise",
        f"deployment:{deployment.name}",
        note,
        watchlist_entries=len(rows),
        subjects=len({s.id for s, _, _ in rows}),
        threshold=deployment.threshold,
    )
    return len(rows)


def go_live(deployment: Deployment, now: datetime | None = None, actor: str = "system") -> None:
    now = now or now_utc()
    if deployment.state == "live":
        return
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
    audit.record(object_session(deployment), actor, "deployment.live", f"deployment:{deployment.name}")


def close(deployment: Deployment, reason: str, now: datetime | None = None, actor: str = "system") -> None:
    if deployment.state == "closed":
        return
    deployment.state, deployment.closed_at, deployment.close_reason = "closed", now or now_utc(), reason
    audit.record(object_session(deployment), actor, "deployment.close", f"deployment:{deployment.name}", reason)


def close_expired(session: Session, now: datetime | None = None) -> list[str]:
    """Close every deployment whose window has ended (live or still waiting); returns their names."""
    now = now or now_utc()
    closed = []
    for deployment in session.scalars(select(Deployment).where(Deployment.state != "closed")):
        if aware(deployment.ends_at) <= now:
            close(deployment, "time window ended", now)
            closed.append(deployment.name)
    return closed


def purge_snapshots(session: Session, home: Path, retention: timedelta, now: datetime | None = None) -> list[str]:
    """Erase the watchlist snapshot (entries, templates, image copies) of deployments closed longer than
    `retention` ago. Alerts keep their crop and subject reference; their link to the entry is cleared."""
    now = now or now_utc()
    erased = []
    query = select(Deployment).where(Deployment.state == "closed", Deployment.snapshot_erased_at.is_(None))
    for deployment in session.scalars(query):
        if deployment.closed_at is None or aware(deployment.closed_at) + retention > now:
            continue
        for entry in session.scalars(select(WatchlistEntry).where(WatchlistEntry.deployment_id == deployment.id)):
            session.delete(entry)
        deployment.snapshot_erased_at = now
        erased.append(deployment.name)
        audit.record(session, "system", "deployment.snapshot-erase", f"deployment:{deployment.name}")
        session.flush()
        shutil.rmtree(snapshot_dir(home, deployment.id), ignore_errors=True)
    return erased


def snapshot_dir(home: Path, deployment_id: int) -> Path:
    return home / "deployments" / str(deployment_id) / "watchlist"


def load_watchlist(session: Session, home: Path, deployment: Deployment) -> Watchlist:
    entries = session.scalars(
        select(WatchlistEntry).where(WatchlistEntry.deployment_id == deployment.id).order_by(WatchlistEntry.id)
    ).all()
    if not entries:
        raise DeploymentStateError(f"deployment '{deployment.name}' has no watchlist snapshot")
    return Watchlist(
        [WatchEntry(e.subject_ref, e.display_name, e.category, home / e.image_path, e.id) for e in entries],
        np.stack([np.frombuffer(e.vector, dtype="<f4") for e in entries]),
        entries[0].space,
    )
