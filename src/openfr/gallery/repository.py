"""Queries and changes on galleries, subjects and templates, inside the caller's transaction.

The gallery services own the transactions, the permissions and the audit events; these functions only read
and change rows. Every change to a gallery's templates goes with `touch(gallery)`, which moves the gallery's
generation on in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openfr.errors import EmbeddingSpaceError, NotFoundError
from openfr.names import check_name
from openfr.store import Gallery, SourceImage, Subject, Template


def get_gallery(session: Session, name: str, *, for_update: bool = False) -> Gallery:
    """The gallery by name. `for_update` locks its row until the transaction ends (PostgreSQL; SQLite's
    writers are serialised anyway): changes to one gallery's templates then happen one after another."""
    query = select(Gallery).where(Gallery.name == name)
    gallery = session.scalar(query.with_for_update() if for_update else query)
    if gallery is None:
        raise NotFoundError(f"no gallery named '{name}' (openfr gallery list)")
    return gallery


def get_or_create_gallery(session: Session, name: str, space: str, *, created_by: str) -> Gallery:
    """The gallery, locked for update, created (with a checked name) if it does not exist yet."""
    gallery = session.scalar(select(Gallery).where(Gallery.name == name).with_for_update())
    if gallery is None:
        try:
            with session.begin_nested():  # two first enrolments at once: one creates, the other finds it
                gallery = Gallery(
                    name=check_name("gallery", name), kind="gallery", purpose="", space=space, created_by=created_by
                )
                session.add(gallery)
        except IntegrityError:
            return get_or_create_gallery(session, name, space, created_by=created_by)
    elif gallery.space != space:
        raise EmbeddingSpaceError(
            f"gallery '{name}' holds templates of {gallery.space}, not {space}: run "
            f"`openfr gallery reembed {name}` with the new pack first"
        )
    return gallery


def touch(gallery: Gallery) -> None:
    """The gallery's templates changed: indexes built before this transaction are stale from its commit."""
    gallery.generation = (gallery.generation or 0) + 1


@dataclass
class GalleryTemplates:
    template_ids: np.ndarray  # (n,) int64
    subject_ids: np.ndarray  # (n,) int64
    vectors: np.ndarray  # (n, dim) float32


def load_templates(session: Session, gallery: Gallery) -> GalleryTemplates:
    rows = session.execute(
        select(Template.id, Template.subject_id, Template.vector)
        .where(Template.gallery_id == gallery.id, Template.space == gallery.space)
        .order_by(Template.id)
    ).all()
    if not rows:
        return GalleryTemplates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
    vectors = np.frombuffer(b"".join(r.vector for r in rows), dtype="<f4").reshape(len(rows), -1)
    return GalleryTemplates(
        np.fromiter((r.id for r in rows), np.int64, len(rows)),
        np.fromiter((r.subject_id for r in rows), np.int64, len(rows)),
        vectors,
    )


def subject_count(session: Session, gallery: Gallery) -> int:
    """People in the gallery: the N of a 1:N search's identification threshold. Counted on the subjects'
    index, not the templates (rows with the vectors: 2 GB to read at a million faces); every subject has an
    enrolled image (migration 0013) and a gallery's templates are all of its space."""
    return session.scalar(select(func.count()).select_from(Subject).where(Subject.gallery_id == gallery.id)) or 0


def gallery_stats(session: Session) -> list[dict]:
    subjects = dict(session.execute(select(Subject.gallery_id, func.count()).group_by(Subject.gallery_id)).all())
    templates = dict(session.execute(select(Template.gallery_id, func.count()).group_by(Template.gallery_id)).all())
    return [
        {
            "name": g.name,
            "kind": g.kind,
            "space": g.space,
            "uses": list(g.uses or []),
            "subjects": subjects.get(g.id, 0),
            "templates": templates.get(g.id, 0),
        }
        for g in session.scalars(select(Gallery).order_by(Gallery.name))
    ]


def list_subjects(session: Session, gallery_name: str, *, q: str = "", offset: int = 0, limit: int = 100) -> list[dict]:
    gallery = get_gallery(session, gallery_name)
    images = func.count(SourceImage.id)
    query = (
        select(Subject, images)
        .outerjoin(SourceImage, (SourceImage.subject_id == Subject.id) & (SourceImage.status == "enrolled"))
        .where(Subject.gallery_id == gallery.id)
        .group_by(Subject.id)
        .order_by(Subject.external_id)
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 500))
    )
    if q:
        query = query.where(Subject.external_id.contains(q) | Subject.display_name.contains(q))
    return [
        {
            "subject": s.external_id,
            "name": s.display_name,
            "category": s.category,
            "legal_basis": s.legal_basis,
            "source": s.source,
            "images": n,
        }
        for s, n in session.execute(query)
    ]


@dataclass
class Deletion:
    subject: str
    images: int
    templates: int
    paths: set[str]  # stored image files the subject referenced
    still_referenced: set[str]  # of those, files another subject also uses (the store is content-addressed)


def delete_subject(session: Session, gallery: Gallery, external_id: str) -> Deletion:
    """Remove a subject with its images and templates (the files go after the commit)."""
    subject = session.scalar(
        select(Subject).where(Subject.gallery_id == gallery.id, Subject.external_id == external_id)
    )
    if subject is None:
        raise NotFoundError(f"no subject '{external_id}' in gallery '{gallery.name}'")
    paths = set(
        session.scalars(
            select(SourceImage.stored_path).where(
                SourceImage.subject_id == subject.id, SourceImage.stored_path.is_not(None)
            )
        )
    )
    n_templates = session.scalar(select(func.count()).where(Template.subject_id == subject.id)) or 0
    # Explicit deletes rather than relying on ON DELETE CASCADE alone: the same code is then correct on
    # any backend, and the pgvector column goes with its template row.
    session.execute(delete(Template).where(Template.subject_id == subject.id))
    session.execute(delete(SourceImage).where(SourceImage.subject_id == subject.id))
    session.execute(delete(Subject).where(Subject.id == subject.id))
    session.flush()
    still = set(session.scalars(select(SourceImage.stored_path).where(SourceImage.stored_path.in_(paths))))
    touch(gallery)
    return Deletion(external_id, len(paths), n_templates, paths, still)
