"""SQLAlchemy models of live facial recognition: deployments, their watchlist snapshots and alerts.

A deployment is the unit of authorisation (who approved scanning whom, where, when and why). Its watchlist
is a snapshot taken at authorisation: each entry copies the subject's details, the provenance of the image and
the template, so that later changes to the gallery cannot alter what a running deployment looks for, and so
that the whole snapshot can be erased on schedule. Alerts keep the evidence an operator needs to adjudicate
(face crop, score, camera, time, track) and the decisions taken on them. Nothing here describes a face that
matched nothing: only aggregate counters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openfr.outcomes import OUTCOMES  # noqa: F401 - re-exported: the store's vocabulary
from openfr.store.models import Base, utcnow

STATES = ("draft", "authorised", "live", "closed")
CATEGORIES = (
    "wanted-serious-offence",  # wanted by the police or courts for a serious offence
    "wanted-court-order",  # subject to a court order or bail condition relevant to the location
    "missing-person",  # missing, including children at risk
    "vulnerable-person",  # at risk of harm to themselves or others
)
NOTICES = ("signage", "leaflets", "web-page", "social-media", "press-release")
COUNTED = ("frames", "faces", "tracks", "alerts", "embeddings")  # what a deployment keeps per camera: numbers


class Deployment(Base):
    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    grounds: Mapped[str] = mapped_column(Text)  # why this deployment is necessary and proportionate
    categories: Mapped[list[str]] = mapped_column(JSON)  # approved watchlist categories (CATEGORIES)
    source_gallery: Mapped[str] = mapped_column(String(200))  # where the snapshot is drawn from
    location: Mapped[str] = mapped_column(Text)
    location_rationale: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cameras: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"name": ..., "source": ...}]
    threshold: Mapped[float] = mapped_column(Float)
    consistent_shots: Mapped[int] = mapped_column(Integer, default=1)
    public_notice: Mapped[dict[str, str]] = mapped_column(JSON)  # kind (NOTICES) -> what was done
    space: Mapped[str | None] = mapped_column(String(100))  # embedding space of the snapshot
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    authorised_by: Mapped[str | None] = mapped_column(String(200))
    authorised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    authorisation_note: Mapped[str | None] = mapped_column(Text)
    authorised_rank: Mapped[str | None] = mapped_column(String(40))  # the authorising officer's rank then
    live_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(Text)
    snapshot_erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # per camera: frames, faces, tracks
    # The run lease: which process runs the cameras, renewed while it does. A stop or close from any process
    # is seen by the owner at its next renewal; a lease not renewed for a while is free to take.
    run_owner: Mapped[str | None] = mapped_column(String(64))
    run_heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Whether someone wants the cameras running: a server restarted after a crash or an upgrade resumes
    # (or reports as interrupted) the deployments it finds wanted and not running.
    run_wanted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    run_counters: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the current run's, checkpointed
    watchlist_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # bumped on removal
    # Two-person verification: an alert counts as confirmed only when a second operator agrees.
    two_person: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    watchlist_size: Mapped[int | None] = mapped_column(Integer)  # subjects in the snapshot, at authorisation
    entries: Mapped[list[WatchlistEntry]] = relationship(back_populates="deployment", passive_deletes=True)


class WatchlistEntry(Base):
    """One image of one subject in a deployment's snapshot, with its provenance and template."""

    __tablename__ = "watchlist_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"), index=True)
    subject_ref: Mapped[str] = mapped_column(String(200))  # the subject's external id in the gallery
    display_name: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)  # where the subject record came from
    image_sha256: Mapped[str] = mapped_column(String(64))
    image_provenance: Mapped[str] = mapped_column(Text)
    image_path: Mapped[str] = mapped_column(String(300))  # the snapshot's own copy, relative to $OPENFR_HOME
    space: Mapped[str] = mapped_column(String(100))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, L2-normalised
    deployment: Mapped[Deployment] = relationship(back_populates="entries")


class Alert(Base):
    """A possible match: a prompt for an operator, never an identification by itself."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("watchlist_entries.id", ondelete="SET NULL"))
    subject_ref: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100))
    camera: Mapped[str] = mapped_column(String(200))
    track: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON)
    frame: Mapped[int] = mapped_column(Integer)  # index of the frame in the camera's stream
    stream_time: Mapped[float] = mapped_column(Float)  # seconds into the stream
    first_usable_frame: Mapped[int] = mapped_column(Integer)  # when the face first became usable
    time_to_alert_ms: Mapped[float] = mapped_column(Float)  # first usable frame seen -> alert stored
    crop_path: Mapped[str | None] = mapped_column(String(300))  # face crop from the frame, under $OPENFR_HOME
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # pending | awaiting-second (two-person: one operator confirmed) | confirmed | rejected | superseded
    state: Mapped[str] = mapped_column(String(20), default="pending")
    adjudicated_by: Mapped[str | None] = mapped_column(String(200))
    adjudicated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[str | None] = mapped_column(String(200))  # the second operator, under two-person
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replaces_id: Mapped[int | None] = mapped_column(Integer)  # an earlier alert of this track, superseded
    outcome: Mapped[str | None] = mapped_column(String(50))  # OUTCOMES
    outcome_note: Mapped[str | None] = mapped_column(Text)
    outcome_by: Mapped[str | None] = mapped_column(String(200))
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WatchlistMember(Base):
    """That a subject was on a deployment's watchlist: kept, without any image or template, after the
    snapshot is erased, so that "was I on a watchlist?" can be answered and deployments audited."""

    __tablename__ = "watchlist_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"), index=True)
    subject_ref: Mapped[str] = mapped_column(String(200), index=True)
    display_name: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100))
    gallery: Mapped[str] = mapped_column(String(200))
    images: Mapped[int] = mapped_column(Integer)
    listed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # deleted from the snapshot
