"""Queries and transactional changes on galleries, subjects and templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openfr.errors import BadInputError, EmbeddingSpaceError
from openfr.gallery import files
from openfr.governance import audit
from openfr.store import Database, Gallery, SourceImage, Subject, Template


class NotFoundError(BadInputError):
    pass


def get_gallery(session: Session, name: str) -> Gallery:
    gallery = session.scalar(select(Gallery).where(Gallery.name == name))
    if gallery is None:
        raise NotFoundError(f"no gallery named '{name}' (openfr gallery list)")
    return gallery


def get_or_create_gallery(
    session: Session, name: str, space: str, *, kind: str = "gallery", created_by: str = ""
) -> Gallery:
    gallery = session.scalar(select(Gallery).where(Gallery.name == name))
    if gallery is None:
        gallery = Gallery(name=name, kind=kind, purpose="", space=space, created_by=created_by)
        session.add(gallery)
        session.flush()
    elif gallery.space != space:
        raise EmbeddingSpaceError(
            f"gallery '{name}' holds templates of {gallery.space}, not {space}: run "
            f"`openfr gallery reembed {name}` with the new pack first"
        )
    return gallery


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


def gallery_stats(session: Session) -> list[dict]:
    out = []
    for gallery in session.scalars(select(Gallery).order_by(Gallery.name)):
        subjects = session.scalar(select(func.count()).where(Subject.gallery_id == gallery.id))
        templates = session.scalar(select(func.count()).where(Template.gallery_id == gallery.id))
        out.append(
            {
                "name": gallery.name,
                "kind": gallery.kind,
                "space": gallery.space,
                "subjects": subjects,
                "templates": templates,
            }
        )
    return out


def delete_subject(
    db: Database, home: Path, gallery_name: str, external_id: str, *, actor: str = "system", reason: str = ""
) -> dict:
    """Remove a subject, its images, templates and index entries in one transaction, then its files."""
    with db.transaction() as session:
        gallery = get_gallery(session, gallery_name)
        gallery_id = gallery.id
        subject = session.scalar(
            select(Subject).where(Subject.gallery_id == gallery.id, Subject.external_id == external_id)
        )
        if subject is None:
            raise NotFoundError(f"no subject '{external_id}' in gallery '{gallery_name}'")
        paths = set(
            session.scalars(
                select(SourceImage.stored_path).where(
                    SourceImage.subject_id == subject.id, SourceImage.stored_path.is_not(None)
                )
            )
        )
        n_templates = session.scalar(select(func.count()).where(Template.subject_id == subject.id))
        # Explicit deletes rather than relying on ON DELETE CASCADE alone: the same code is then correct on
        # any backend, and the pgvector column goes with its template row.
        session.execute(delete(Template).where(Template.subject_id == subject.id))
        session.execute(delete(SourceImage).where(SourceImage.subject_id == subject.id))
        session.execute(delete(Subject).where(Subject.id == subject.id))
        session.flush()
        audit.record(
            session,
            actor,
            "subject.delete",
            f"gallery:{gallery_name}",
            reason,
            subject=external_id,
            images=len(paths),
            templates=n_templates,
        )
        still = set(session.scalars(select(SourceImage.stored_path).where(SourceImage.stored_path.in_(paths))))
    db.purge_freed_pages()
    files.forget_index(home, gallery_id)
    removed = files.remove_unreferenced(home, paths, still)
    return {"subject": external_id, "templates": n_templates, "images": len(paths), "files_removed": removed}
