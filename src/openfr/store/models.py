"""SQLAlchemy 2 models of the identity store. Alembic migrations (store/migrations) create the schema.

Templates are derived data: the source image is kept (content-addressed under $OPENFR_HOME/images) so that
every template can be rebuilt when the model pack changes. Every template records the embedding space that
made it, and a gallery holds templates of one space only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Gallery(Base):
    """A set of subjects searched together: a custody gallery, or a deployment's watchlist."""

    __tablename__ = "galleries"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="gallery")  # gallery | watchlist
    purpose: Mapped[str] = mapped_column(Text, default="")
    space: Mapped[str] = mapped_column(String(100))  # embedding space of every template in it
    # Bumped in the same transaction as every enrolment, deletion and re-embedding: indexes built from the
    # gallery are keyed on it, so a search can never be answered from an index that predates a change.
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # What its images may be used for (governance/uses.py: oifr, rfr, live): every search and every
    # deployment plan checks it. The services set it; a row made without them has no use at all.
    uses: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    subjects: Mapped[list[Subject]] = relationship(back_populates="gallery", passive_deletes=True)


class Subject(Base):
    """A person in a gallery, known by the force's own reference (custody record, case, missing-person id)."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("gallery_id", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    gallery_id: Mapped[int] = mapped_column(ForeignKey("galleries.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(100))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    gallery: Mapped[Gallery] = relationship(back_populates="subjects")
    images: Mapped[list[SourceImage]] = relationship(back_populates="subject", passive_deletes=True)


class SourceImage(Base):
    """An image as received, with where it came from; rejected images are recorded with the reason."""

    __tablename__ = "source_images"
    __table_args__ = (UniqueConstraint("subject_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_path: Mapped[str | None] = mapped_column(String(300))  # relative to $OPENFR_HOME; None if rejected
    original_name: Mapped[str] = mapped_column(Text)
    provenance: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))  # enrolled | rejected
    reject_reason: Mapped[str | None] = mapped_column(Text)
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    subject: Mapped[Subject] = relationship(back_populates="images")


class Template(Base):
    """One face template: the float32 vector of one source image in one embedding space."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("image_id", "space"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("source_images.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    gallery_id: Mapped[int] = mapped_column(ForeignKey("galleries.id", ondelete="CASCADE"), index=True)
    space: Mapped[str] = mapped_column(String(100))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian, L2-normalised
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SearchRecord(Base):
    """Who searched which gallery, why and when, and what came back. Never the probe image or its vector."""

    __tablename__ = "searches"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10))  # RFR | OIFR | LFR
    reason: Mapped[str] = mapped_column(Text)
    crime_ref: Mapped[str | None] = mapped_column(String(100))
    gallery: Mapped[str] = mapped_column(String(200))
    space: Mapped[str] = mapped_column(String(100))
    probe_quality: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    poor_probe_reason: Mapped[str | None] = mapped_column(Text)  # why a probe below the quality gate was searched
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Operator-initiated searches: the approved grounds (a key of services/oifr.GROUNDS; the officer's own
    # words are `reason`), where it happened, and the officer's recorded result (once, by the searcher).
    grounds: Mapped[str | None] = mapped_column(String(40))
    location: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(40))
    result_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result_by: Mapped[str | None] = mapped_column(String(200))
