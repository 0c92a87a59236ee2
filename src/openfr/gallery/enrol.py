"""Enrolment: DIR/<subject_id>/<images> (plus an optional CSV manifest) into a gallery.

Idempotent and resumable: an image is identified by its subject and the SHA-256 of its bytes, recorded in
the same transaction as its template. A rerun after a crash (even kill -9) skips what was committed and
redoes the rest, so every image ends up enrolled exactly once. Images that fail decoding or the quality gate
are recorded as rejected, with the reason, and not stored.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select

from openfr.engine.batch import ImageResult, analyse_paths
from openfr.errors import BadInputError
from openfr.gallery import files, pgvector
from openfr.gallery.repository import get_or_create_gallery
from openfr.governance import audit
from openfr.imageio import IMAGE_SUFFIXES
from openfr.settings import Settings
from openfr.store import Database, SourceImage, Subject, Template

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


def plan(directory: Path) -> list[tuple[str, Path]]:
    if not directory.is_dir():
        raise BadInputError(f"{directory}: not a directory (expected DIR/<subject_id>/<images>)")
    entries = [
        (subject_dir.name, image)
        for subject_dir in sorted(p for p in directory.iterdir() if p.is_dir())
        for image in sorted(subject_dir.rglob("*"))
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
            return {row["subject_id"]: row for row in reader}
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None


def import_directory(
    db: Database,
    home: Path,
    settings: Settings,
    *,
    space: str,
    gallery_name: str,
    directory: Path,
    manifest: Path | None = None,
    metadata: dict[str, dict[str, str]] | None = None,
    created_by: str = "",
    pack_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """`metadata` (subject id -> manifest row) is the in-memory alternative to a manifest file."""
    entries = plan(directory)
    meta = metadata if metadata is not None else read_manifest(manifest)
    files.remove_stale_temporaries(home)
    report = ImportReport(gallery_name, seen=len(entries))
    with db.transaction() as session:
        gallery_id = get_or_create_gallery(session, gallery_name, space, created_by=created_by).id
        done = {
            (external_id, sha)
            for external_id, sha in session.execute(
                select(Subject.external_id, SourceImage.sha256)
                .join(SourceImage, SourceImage.subject_id == Subject.id)
                .where(Subject.gallery_id == gallery_id)
            )
        }
    pending: dict[Path, tuple[str, str]] = {}  # path -> (subject, sha256); bytes are re-read at commit
    for external_id, path in entries:
        sha = files.sha256_bytes(path.read_bytes())
        if (external_id, sha) in done:
            report.already += 1
        else:
            pending[path] = (external_id, sha)
            done.add((external_id, sha))  # the same file twice in one folder is enrolled once
    if progress:
        progress(report.already, len(entries))
    by_path = pending
    batch: list[ImageResult] = []
    for result in analyse_paths(list(pending), settings, pack_id=pack_id):
        batch.append(result)
        if len(batch) >= COMMIT_EVERY:
            _commit(db, home, gallery_id, space, batch, by_path, meta, report, (created_by, gallery_name))
            if progress:
                progress(len(batch), len(entries))
            batch = []
    if batch:
        _commit(db, home, gallery_id, space, batch, by_path, meta, report, (created_by, gallery_name))
        if progress:
            progress(len(batch), len(entries))
    return report


def _commit(db, home, gallery_id, space, batch, by_path, meta, report, who) -> None:
    enrolled_before, rejected_before = report.enrolled, len(report.rejected)
    with db.transaction() as session:
        subjects: dict[str, int] = {}
        new_templates: list[Template] = []
        for result in batch:
            external_id, sha = by_path[result.path]
            if external_id not in subjects:
                subjects[external_id] = _subject(session, gallery_id, external_id, meta.get(external_id, {}))
            reason, face = _gate(result)
            image = SourceImage(
                subject_id=subjects[external_id],
                sha256=sha,
                original_name=str(result.path),
                provenance=meta.get(external_id, {}).get("source") or f"import of {result.path.parent.parent}",
                status="rejected" if reason else "enrolled",
                reject_reason=reason,
                quality=face.quality.as_dict() if face is not None and face.quality is not None else None,
                width=result.size[0] if result.size else None,
                height=result.size[1] if result.size else None,
            )
            if reason is None:
                data = result.path.read_bytes()
                if files.sha256_bytes(data) != sha:
                    reason = image.reject_reason = "file changed during the import; run it again"
                    image.status = "rejected"
                else:
                    image.stored_path = files.store(home, data, sha, result.path.suffix)
            session.add(image)
            session.flush()
            if reason is not None:
                report.rejected.append((str(result.path), reason))
                continue
            assert face is not None and face.embedding is not None
            template = Template(
                image_id=image.id,
                subject_id=image.subject_id,
                gallery_id=gallery_id,
                space=space,
                dim=int(face.embedding.vector.shape[0]),
                vector=face.embedding.vector.astype("<f4").tobytes(),
            )
            session.add(template)
            new_templates.append(template)
            report.enrolled += 1
        session.flush()
        if db.is_postgres:
            pgvector.write_embeddings(session, [(t.id, np.frombuffer(t.vector, dtype="<f4")) for t in new_templates])
        # One event per committed batch: the trail matches what is in the store even after a crash.
        audit.record(
            session,
            who[0] or "system",
            "enrol",
            f"gallery:{who[1]}",
            "",
            enrolled=report.enrolled - enrolled_before,
            rejected=len(report.rejected) - rejected_before,
        )


def _gate(result: ImageResult):
    if result.error is not None:
        return result.error, None
    face = result.main_face()
    if face is None:
        return "no face found", None
    if face.quality is not None and not face.quality.usable:
        return "; ".join(face.quality.reasons), face
    return None, face


def _subject(session, gallery_id: int, external_id: str, row: dict[str, str]) -> int:
    subject_id = session.scalar(
        select(Subject.id).where(Subject.gallery_id == gallery_id, Subject.external_id == external_id)
    )
    if subject_id is None:
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
        subject_id = subject.id
    return subject_id
