"""Galleries and subjects, enrolment by upload, and searches (operator-initiated and retrospective)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile, status
from sqlalchemy import func, select

from openfr.errors import BadInputError
from openfr.gallery import uploads
from openfr.gallery.repository import NotFoundError, delete_subject, gallery_stats, get_gallery
from openfr.gallery.search import SearchContext
from openfr.governance.permissions import Permission
from openfr.store import SourceImage, Subject
from openfr.web.deps import AuthUser, Db, Require, ServicesDep

router = APIRouter(prefix="/api", tags=["galleries and search"])


async def read_upload(upload: UploadFile, max_mb: float) -> bytes:
    """The file's bytes, refusing anything larger than the limit (a second guard behind max_body_size)."""
    limit = int(max_mb * 1024 * 1024)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise uploads.UploadTooLargeError(f"the image is larger than {max_mb:g} MB")
    return data


def bad_upload(exc: BadInputError) -> HTTPException:
    code = status.HTTP_413_CONTENT_TOO_LARGE if isinstance(exc, uploads.UploadTooLargeError) else 400
    return HTTPException(code, str(exc))


@router.get("/galleries", dependencies=[Depends(Require(Permission.GALLERY_READ))])
def galleries(session: Db) -> list[dict]:
    return gallery_stats(session)


@router.get("/galleries/{name}/subjects", dependencies=[Depends(Require(Permission.GALLERY_READ))])
def subjects(name: str, session: Db, q: str = "", offset: int = 0, limit: int = 100) -> list[dict]:
    try:
        return list_subjects(session, name, q=q, offset=offset, limit=limit)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


def list_subjects(session, gallery_name: str, *, q: str = "", offset: int = 0, limit: int = 100) -> list[dict]:
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


@router.post("/galleries/{name}/enrol")
async def enrol(
    name: str,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Require(Permission.GALLERY_ENROL))],
    image: Annotated[UploadFile, File(description="One photo of the subject.")],
    subject: Annotated[str, Form(description="The force's reference for the person.")],
    source: Annotated[str, Form(description="Where the image came from (provenance).")],
    display_name: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    legal_basis: Annotated[str, Form()] = "",
) -> dict:
    fields = uploads.EnrolFields(name, subject, source, display_name, category, legal_basis)
    try:
        data = await read_upload(image, services.settings.web.upload_max_mb)
        report = uploads.enrol_upload(services, fields, filename=image.filename or "", data=data, actor=user.username)
    except BadInputError as exc:
        raise bad_upload(exc) from None
    return report.as_dict()


@router.delete("/galleries/{name}/subjects/{subject}")
def remove_subject(
    name: str,
    subject: str,
    reason: str,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Require(Permission.GALLERY_DELETE))],
) -> dict:
    """Erase a subject with every image and template (recorded with the reason)."""
    if not reason.strip():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "a reason is required to delete a subject")
    try:
        return delete_subject(services.db, services.home, name, subject, actor=user.username, reason=reason)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.post("/search")
async def search(
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Require(Permission.SEARCH_RUN))],
    image: Annotated[UploadFile, File(description="The probe photo; never stored.")],
    gallery: Annotated[str, Form()],
    reason: Annotated[str, Form(description="Why the search is made (recorded).")],
    crime_ref: Annotated[str, Form()] = "",
    mode: Annotated[Literal["OIFR", "RFR"], Form()] = "RFR",
    top: Annotated[int, Form(ge=1, le=200)] = 10,
) -> dict:
    """Ranked candidates: investigative leads for a trained reviewer, never identifications."""
    context = SearchContext(actor=user.username, reason=reason, crime_ref=crime_ref or None, mode=mode)
    try:
        data = await read_upload(image, services.settings.web.upload_max_mb)
        candidates, quality = uploads.search_upload(services, gallery=gallery, data=data, context=context, top=top)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except BadInputError as exc:
        raise bad_upload(exc) from None
    return {"gallery": gallery, "probe_quality": quality, "candidates": [c.as_dict() for c in candidates]}
