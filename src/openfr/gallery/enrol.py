"""Enrolment: images of subjects into a gallery, from a folder (DIR/<subject_id>/<images> plus an optional CSV
manifest) or one uploaded image at a time.

Idempotent and resumable: an image is identified by its subject and the SHA-256 of its bytes, recorded in
the same transaction as its template. A rerun after a crash (even kill -9) skips what was committed and
redoes the rest, so every image ends up enrolled exactly once. Images that fail decoding or the quality gate
are recorded as rejected, with the reason, and not stored. A subject exists only once one of its images is
enrolled, and a gallery only once created in its own step (services/galleries.py): enrolment creates
neither from a rejected image or a typed name. The gallery services drive this module: they own the
transactions (one per batch of `COMMIT_EVERY`), the permission check and the audit events.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from openfr.engine.batch import ImageResult
from openfr.errors import BadInputError, EmbeddingSpaceError, NotFoundError
from openfr.gallery import files, pgvector
from openfr.imageio import IMAGE_SUFFIXES
from openfr.names import check_reference
from openfr.store import Gallery, SourceImage, Subject, Template
from openfr.store.live_tables import CATEGORIES

MANIFEST_COLUMNS = ("subject_id", "name", "category", "legal_basis", "source")
COMMIT_EVERY = 64  # images per transaction: a crash redoes at most this many


@dataclass
class ImportReport:
    gallery: str
    seen: int = 0
    enrolled: int = 0
    already: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "gallery": self.gallery,
            "images": self.seen,
            "enrolled": self.enrolled,
            "already_enrolled": self.already,
            "rejected": len(self.rejected),
            "rejections": [{"image": p, "reason": r} for p, r in self.rejected],
        }


@dataclass(frozen=True)
class EnrolItem:
    """One image of one subject, waiting to be enrolled."""

    subject: str
    sha256: str
    original_name: str
    suffix: str
    path: Path | None = None  # a file of a folder import: re-read at commit, refused if it changed meanwhile
    data: bytes | None = None  # an upload's bytes: never written anywhere but the content-addressed store

    def current_bytes(self) -> bytes | None:
        data = self.data if self.data is not None else self.path.read_bytes()  # type: ignore[union-attr]
        return data if files.sha256_bytes(data) == self.sha256 else None


def plan(directory: Path) -> list[tuple[str, Path]]:
    """(subject reference, image) for every image under DIR/<subject_id>/."""
    if not directory.is_dir():
        raise BadInputError(f"{directory}: not a directory (expected DIR/<subject_id>/<images>)")
    folders = sorted(p for p in directory.iterdir() if p.is_dir())
    bad = []
    for folder in folders:
        try:
            check_reference(folder.name)
        except BadInputError:
            bad.append(folder.name)
    if bad:
        raise BadInputError(
            f"{directory}: {len(bad)} folder name(s) are not valid subject references "
            f"(letters, digits, '.', '_' or '-'): {', '.join(repr(b) for b in bad[:5])}"
        )
    entries = [
        (folder.name, image)
        for folder in folders
        for image in sorted(folder.rglob("*"))
        if image.is_file() and image.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not entries:
        raise BadInputError(f"{directory}: no images found in DIR/<subject_id>/ folders")
    return entries


def read_manifest(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "subject_id" not in reader.fieldnames:
                raise BadInputError(f"{path}: manifest needs a subject_id column ({', '.join(MANIFEST_COLUMNS)})")
            unknown = set(reader.fieldnames) - set(MANIFEST_COLUMNS)
            if unknown:
                raise BadInputError(f"{path}: unknown manifest column(s) {', '.join(sorted(unknown))}")
            rows = {row["subject_id"]: row for row in reader}
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    check_metadata(rows, where=str(path))
    return rows


def check_metadata(rows: dict[str, dict[str, str]], where: str = "the subject's details") -> None:
    """A category is one of the approved watchlist categories, or none (e.g. a custody record only)."""
    bad = sorted({row.get("category") or "" for row in rows.values()} - {"", *CATEGORIES})
    if bad:
        raise BadInputError(
            f"{where}: unknown categor{'y' if len(bad) == 1 else 'ies'} {', '.join(repr(b) for b in bad)} "
            f"(leave empty, or one of {', '.join(CATEGORIES)})"
        )


def enrolled_keys(session: Session, gallery_id: int) -> set[tuple[str, str]]:
    """(subject reference, image SHA-256) of every image already recorded in the gallery."""
    return {
        (external_id, sha)
        for external_id, sha in session.execute(
            select(Subject.external_id, SourceImage.sha256)
            .join(SourceImage, SourceImage.subject_id == Subject.id)
            .where(Subject.gallery_id == gallery_id)
        )
    }


def folder_items(entries: list[tuple[str, Path]], done: set[tuple[str, str]]) -> tuple[list[EnrolItem], int]:
    """The images still to enrol, and how many were enrolled before (the same file twice counts once)."""
    items, already = [], 0
    seen = set(done)
    for subject, path in entries:
        sha = files.sha256_bytes(path.read_bytes())
        if (subject, sha) in seen:
            already += 1
            continue
        seen.add((subject, sha))
        items.append(EnrolItem(subject, sha, str(path), path.suffix, path=path))
    return items, already


def target_gallery(session: Session, name: str, space: str, *, for_update: bool = False) -> Gallery:
    """The gallery to enrol into (`for_update`: locked until the transaction ends). Enrolment never creates
    one: a gallery is created in its own step, with a purpose, so a mistyped name is refused instead of
    becoming a new gallery."""
    query = select(Gallery).where(Gallery.name == name)
    gallery = session.scalar(query.with_for_update() if for_update else query)
    if gallery is None:
        raise NotFoundError(f"no gallery named '{name}': create it first")
    if gallery.space != space:
        raise EmbeddingSpaceError(
            f"gallery '{name}' holds templates of {gallery.space}, not {space}: run "
            f"`openfr gallery reembed {name}` with the new pack first"
        )
    return gallery


def commit_batch(
    session: Session,
    home: Path,
    gallery: Gallery,
    batch: list[tuple[EnrolItem, ImageResult]],
    meta: dict[str, dict[str, str]],
    default_provenance: str,
    created: list[str] | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """Record a batch of analysed images; returns (enrolled, [(image, reason) rejected]). `created` collects
    the image files written, for removal if the transaction does not commit.

    A subject is created with its first enrolled image, never before: a person whose every image was
    rejected leaves no subject (no name, no watchlist category) behind. Rejected images of a subject in the
    store are recorded, so a rerun skips them; those of a subject that never came to exist cannot be (the row
    needs its subject) and are only reported, so a rerun analyses them again."""
    subjects: dict[str, int | None] = {}
    waiting: dict[str, list[SourceImage]] = {}  # rejected images of subjects not (yet) in the store
    new_templates: list[Template] = []
    enrolled, rejected = 0, []
    for item, result in batch:
        if item.subject not in subjects:
            subjects[item.subject] = _existing_subject(session, gallery.id, item.subject)
        reason, face = _gate(result)
        data = item.current_bytes() if reason is None else None
        if reason is None and data is None:
            reason = "file changed during the import; run it again"
        image = SourceImage(
            sha256=item.sha256,
            original_name=item.original_name,
            provenance=meta.get(item.subject, {}).get("source") or default_provenance,
            status="rejected" if reason else "enrolled",
            reject_reason=reason,
            quality=face.quality.as_dict() if face is not None and face.quality is not None else None,
            width=result.size[0] if result.size else None,
            height=result.size[1] if result.size else None,
        )
        if reason is not None:
            rejected.append((item.original_name, reason))
            if subjects[item.subject] is None:
                waiting.setdefault(item.subject, []).append(image)
            else:
                image.subject_id = subjects[item.subject]
                session.add(image)
            continue
        if subjects[item.subject] is None:
            subjects[item.subject] = _new_subject(session, gallery.id, item.subject, meta.get(item.subject, {}))
            for earlier in waiting.pop(item.subject, []):  # the subject exists now: its rejections are kept
                earlier.subject_id = subjects[item.subject]
                session.add(earlier)
        image.subject_id = subjects[item.subject]
        image.stored_path = files.store(home, data, item.sha256, item.suffix, created)  # type: ignore[arg-type]
        session.add(image)
        session.flush()
        assert face is not None and face.embedding is not None
        template = Template(
            image_id=image.id,
            subject_id=image.subject_id,
            gallery_id=gallery.id,
            space=gallery.space,
            dim=int(face.embedding.vector.shape[0]),
            vector=face.embedding.vector.astype("<f4").tobytes(),
        )
        session.add(template)
        new_templates.append(template)
        enrolled += 1
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        pgvector.write_embeddings(session, [(t.id, np.frombuffer(t.vector, dtype="<f4")) for t in new_templates])
    return enrolled, rejected


def _gate(result: ImageResult):
    if result.error is not None:
        return result.error, None
    face = result.main_face()
    if face is None:
        return "no face found", None
    if face.quality is not None and not face.quality.usable:
        return "; ".join(face.quality.reasons), face
    return None, face


def _existing_subject(session: Session, gallery_id: int, external_id: str) -> int | None:
    return session.scalar(
        select(Subject.id).where(Subject.gallery_id == gallery_id, Subject.external_id == external_id)
    )


def _new_subject(session: Session, gallery_id: int, external_id: str, row: dict[str, str]) -> int:
    subject = Subject(
        gallery_id=gallery_id,
        external_id=external_id,
        display_name=row.get("name") or None,
        category=row.get("category") or None,
        legal_basis=row.get("legal_basis") or None,
        source=row.get("source") or None,
    )
    session.add(subject)
    session.flush()
    return subject.id
