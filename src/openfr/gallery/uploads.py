"""Images that arrive over the web (console or API): one enrolment, or one search probe.

An enrolment goes through the same import as a folder (quality gate, provenance, one audit event), from a
private temporary folder removed afterwards. A search probe is never written anywhere: it is decoded from
memory, searched, and dropped, as an operator-initiated search requires.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from openfr.errors import BadInputError
from openfr.gallery.enrol import ImportReport, import_directory
from openfr.gallery.search import Candidate, SearchContext
from openfr.imageio import IMAGE_SUFFIXES, load_image
from openfr.runtime import Services
from openfr.store.live import CATEGORIES

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class UploadTooLargeError(BadInputError):
    """The upload is over `web.upload_max_mb` (HTTP 413)."""


@dataclass(frozen=True)
class EnrolFields:
    """What an enrolment form says about the image: the same fields in the console and the API."""

    gallery: str
    subject: str
    source: str  # where the image came from: required, it becomes the image's provenance
    display_name: str = ""
    category: str = ""
    legal_basis: str = ""


def check_subject_id(subject_id: str) -> str:
    subject_id = subject_id.strip()
    if not _SAFE_ID.match(subject_id):
        raise BadInputError("subject reference: letters, digits, '.', '_' or '-', up to 200, e.g. CUST-2026-0042")
    return subject_id


def enrol_upload(svc: Services, fields: EnrolFields, *, filename: str, data: bytes, actor: str) -> ImportReport:
    """Enrol one uploaded image of one subject; every enrolled image carries its provenance."""
    gallery, category, source = fields.gallery, fields.category, fields.source
    subject_id = check_subject_id(fields.subject)
    if not gallery.strip():
        raise BadInputError("the gallery must be named")
    if category and category not in CATEGORIES:
        raise BadInputError(f"category must be one of {', '.join(CATEGORIES)}")
    if not source.strip():
        raise BadInputError("say where the image came from (source), for its provenance")
    suffix = Path(filename or "").suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise BadInputError(f"unsupported image type '{suffix or 'none'}' ({', '.join(sorted(IMAGE_SUFFIXES))})")
    if not data:
        raise BadInputError("the uploaded file is empty")
    scratch = svc.home / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=scratch))
    try:
        (folder / subject_id).mkdir()
        (folder / subject_id / f"upload{suffix}").write_bytes(data)
        row = {"subject_id": subject_id, "name": fields.display_name, "category": category}
        row["legal_basis"] = fields.legal_basis
        row["source"] = f"{source.strip()} (uploaded by {actor})"
        return import_directory(
            svc.db,
            svc.home,
            svc.settings,
            space=svc.engine.space,
            gallery_name=gallery.strip(),
            directory=folder,
            metadata={subject_id: row},
            created_by=actor,
            pack_id=svc.pack_id,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def search_upload(
    svc: Services, *, gallery: str, data: bytes, context: SearchContext, top: int = 10
) -> tuple[list[Candidate], dict]:
    """Candidates for the face in an uploaded photo, and the probe's quality. Web searches always need a
    reason, operational installation or not."""
    if not context.reason.strip():
        raise BadInputError("a search needs a reason (and a crime reference where there is one)")
    if not data:
        raise BadInputError("the uploaded photo is empty")
    image = load_image(data, max_pixels=svc.settings.engine.max_image_pixels)
    probe = svc.engine.probe(image, name="upload")
    quality = probe.quality.as_dict() if probe.quality is not None else {}
    candidates = svc.searcher.search(gallery, probe.embedding, top, context=context, probe_quality=quality)
    return candidates, quality
