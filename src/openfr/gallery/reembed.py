"""Re-embedding: rebuild every template of a gallery from its stored source images with another pack.

Templates are derived data. When the model pack changes, the kept source images are embedded again and the
gallery moves to the new space in one transaction: searches see either all old or all new templates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import delete, select

from openfr.engine.batch import analyse_paths
from openfr.gallery import files, pgvector
from openfr.gallery.repository import get_gallery
from openfr.governance import audit
from openfr.settings import Settings
from openfr.store import Database, SourceImage, Subject, Template


def reembed_gallery(
    db: Database,
    home: Path,
    settings: Settings,
    *,
    gallery_name: str,
    space: str,
    pack_id: str | None = None,
    actor: str = "system",
) -> dict:
    with db.transaction() as session:
        gallery = get_gallery(session, gallery_name)
        old_space = gallery.space
        images = session.execute(
            select(SourceImage.id, SourceImage.subject_id, SourceImage.stored_path)
            .join(Subject, Subject.id == SourceImage.subject_id)
            .where(Subject.gallery_id == gallery.id, SourceImage.status == "enrolled")
            .order_by(SourceImage.id)
        ).all()
        gallery_id = gallery.id
    by_path = {home / row.stored_path: row for row in images}
    vectors: dict[int, np.ndarray] = {}
    lost: dict[int, str] = {}
    for result in analyse_paths(list(by_path), settings, pack_id=pack_id):
        row = by_path[result.path]
        face = result.main_face()
        if face is None or face.embedding is None or (face.quality is not None and not face.quality.usable):
            lost[row.id] = result.error or ("no face found" if face is None else "; ".join(face.quality.reasons))
        else:
            vectors[row.id] = face.embedding.vector
    with db.transaction() as session:
        gallery = get_gallery(session, gallery_name)
        session.execute(delete(Template).where(Template.gallery_id == gallery_id))
        new = []
        for row in images:
            if row.id in vectors:
                vector = vectors[row.id]
                template = Template(
                    image_id=row.id,
                    subject_id=row.subject_id,
                    gallery_id=gallery_id,
                    space=space,
                    dim=int(vector.shape[0]),
                    vector=vector.astype("<f4").tobytes(),
                )
                session.add(template)
                new.append((template, vector))
        for image_id, reason in lost.items():
            image = session.get(SourceImage, image_id)
            assert image is not None
            image.status, image.reject_reason = "rejected", f"re-embedding with {space}: {reason}"
        lost_paths = {by_row.stored_path for by_row in images if by_row.id in lost}
        for image_id in lost:
            session.get(SourceImage, image_id).stored_path = None  # type: ignore[union-attr]
        gallery.space = space
        session.flush()
        audit.record(
            session,
            actor,
            "gallery.reembed",
            f"gallery:{gallery_name}",
            "",
            old_space=old_space,
            new_space=space,
            templates=len(vectors),
            rejected=len(lost),
        )
        if db.is_postgres:
            pgvector.write_embeddings(session, [(t.id, v) for t, v in new])
        still = set(session.scalars(select(SourceImage.stored_path).where(SourceImage.stored_path.in_(lost_paths))))
    files.remove_unreferenced(home, lost_paths, still)
    db.purge_freed_pages()
    files.forget_index(home, gallery_id)
    return {"gallery": gallery_name, "from": old_space, "to": space, "templates": len(vectors), "rejected": len(lost)}
