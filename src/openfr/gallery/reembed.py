"""Re-embedding: rebuild every template of a gallery from its stored source images with another pack.

Templates are derived data. When the model pack changes, the kept source images are embedded again and the
gallery moves to the new space in one transaction: searches see either all old or all new templates. The
gallery service drives it: the bulk of the images is embedded before that transaction, and the images
enrolled meanwhile are embedded inside it, with the gallery locked, so no concurrent enrolment is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openfr.engine.batch import analyse_paths
from openfr.gallery import pgvector
from openfr.gallery.repository import touch
from openfr.settings import Settings
from openfr.store import Gallery, SourceImage, Subject, Template


@dataclass
class Embedded:
    vectors: dict[int, np.ndarray] = field(default_factory=dict)  # source image id -> new vector
    lost: dict[int, str] = field(default_factory=dict)  # source image id -> why the new pack cannot use it


def enrolled_images(session: Session, gallery: Gallery) -> dict[int, tuple[int, str]]:
    """Source image id -> (subject id, stored path) of every enrolled image of the gallery."""
    rows = session.execute(
        select(SourceImage.id, SourceImage.subject_id, SourceImage.stored_path)
        .join(Subject, Subject.id == SourceImage.subject_id)
        .where(Subject.gallery_id == gallery.id, SourceImage.status == "enrolled")
        .order_by(SourceImage.id)
    ).all()
    return {row.id: (row.subject_id, row.stored_path) for row in rows}


def embed(home: Path, images: dict[int, tuple[int, str]], settings: Settings, pack_id: str | None, into: Embedded):
    by_path = {home / path: image_id for image_id, (_, path) in images.items()}
    for result in analyse_paths(list(by_path), settings, pack_id=pack_id):
        image_id = by_path[result.path]
        face = result.main_face()
        if face is None or face.embedding is None or (face.quality is not None and not face.quality.usable):
            into.lost[image_id] = result.error or (
                "no face found" if face is None else "; ".join(face.quality.reasons)  # type: ignore[union-attr]
            )
        else:
            into.vectors[image_id] = face.embedding.vector


def replace_templates(
    session: Session, gallery: Gallery, images: dict[int, tuple[int, str]], done: Embedded, space: str
) -> tuple[set[str], set[str]]:
    """Swap the gallery's templates for the new ones; returns (files of lost images, of those still used)."""
    session.execute(delete(Template).where(Template.gallery_id == gallery.id))
    new = []
    for image_id, (subject_id, _) in images.items():
        vector = done.vectors.get(image_id)
        if vector is None:
            continue
        template = Template(
            image_id=image_id,
            subject_id=subject_id,
            gallery_id=gallery.id,
            space=space,
            dim=int(vector.shape[0]),
            vector=vector.astype("<f4").tobytes(),
        )
        session.add(template)
        new.append((template, vector))
    lost_paths = {images[i][1] for i in done.lost if i in images}
    for image_id, reason in done.lost.items():
        image = session.get(SourceImage, image_id)
        if image is not None:
            image.status, image.reject_reason = "rejected", f"re-embedding with {space}: {reason}"
            image.stored_path = None
    gallery.space = space
    touch(gallery)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        pgvector.write_embeddings(session, [(t.id, v) for t, v in new])
    still = set(session.scalars(select(SourceImage.stored_path).where(SourceImage.stored_path.in_(lost_paths))))
    return lost_paths, still
