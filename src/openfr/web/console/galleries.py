"""Galleries and subjects (browse, enrol by upload, delete with a reason) and the search page, whose photo
upload opens the camera on a phone."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import Response

from openfr.errors import BadInputError
from openfr.gallery import uploads
from openfr.gallery.repository import NotFoundError, delete_subject, gallery_stats
from openfr.gallery.search import SearchContext
from openfr.governance.permissions import Permission
from openfr.store.live import CATEGORIES
from openfr.web.deps import AuthUser, Db, ServicesDep
from openfr.web.pages import render
from openfr.web.routes.gallery import list_subjects, read_upload
from openfr.web.sessions import Allow, ConsoleUser

router = APIRouter(include_in_schema=False)


@router.get("/galleries", dependencies=[Depends(Allow(Permission.GALLERY_READ))])
def galleries(request: Request, user: ConsoleUser, session: Db) -> Response:
    return render(request, "galleries.html", user, galleries=gallery_stats(session), categories=CATEGORIES)


def _gallery_page(request, user, session, name: str, q: str = "", code: int = 200, **extra) -> Response:
    try:
        rows = list_subjects(session, name, q=q, limit=200)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return render(request, "gallery.html", user, code, name=name, rows=rows, q=q, categories=CATEGORIES, **extra)


@router.get("/galleries/{name}", dependencies=[Depends(Allow(Permission.GALLERY_READ))])
def gallery(name: str, request: Request, user: ConsoleUser, session: Db, q: str = "") -> Response:
    return _gallery_page(request, user, session, name, q)


@router.post("/enrol")
async def enrol(
    request: Request,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Allow(Permission.GALLERY_ENROL))],
    gallery: Annotated[str, Form(max_length=200)],
    subject: Annotated[str, Form(max_length=200)],
    source: Annotated[str, Form(max_length=2000)],
    image: Annotated[UploadFile, File()],
    display_name: Annotated[str, Form(max_length=300)] = "",
    category: Annotated[str, Form(max_length=100)] = "",
    legal_basis: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    fields = uploads.EnrolFields(gallery, subject, source, display_name, category, legal_basis)
    try:
        data = await read_upload(image, services.settings.web.upload_max_mb)
        report = uploads.enrol_upload(services, fields, filename=image.filename or "", data=data, actor=user.username)
    except BadInputError as exc:
        return render(
            request, "galleries.html", user, 400, galleries=gallery_stats(session), categories=CATEGORIES,
            error=str(exc), form=asdict(fields),
        )  # fmt: skip
    result = report.as_dict()
    if result["rejected"]:
        message, code = f"Not enrolled: {result['rejections'][0]['reason']}", 422
    elif result["already_enrolled"]:
        message, code = "This image of this subject was already enrolled.", 200
    else:
        message, code = f"Enrolled one image of {subject.strip()}.", 201
    return _gallery_page(request, user, session, gallery.strip(), code=code, message=message)


@router.post("/galleries/{name}/subjects/{subject}/delete")
def delete(
    name: str,
    subject: str,
    request: Request,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Allow(Permission.GALLERY_DELETE))],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    try:
        delete_subject(services.db, services.home, name, subject, actor=user.username, reason=reason)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return _gallery_page(request, user, session, name, message=f"Deleted {subject} with every image and template.")


@router.get("/search", dependencies=[Depends(Allow(Permission.SEARCH_RUN))])
def search_page(request: Request, user: ConsoleUser, session: Db) -> Response:
    return render(request, "search.html", user, galleries=[g["name"] for g in gallery_stats(session)])


@router.post("/search")
async def search(
    request: Request,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Allow(Permission.SEARCH_RUN))],
    gallery: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=2000)],
    image: Annotated[UploadFile, File()],
    crime_ref: Annotated[str, Form(max_length=200)] = "",
    mode: Annotated[str, Form()] = "OIFR",
) -> Response:
    """The photo is read into memory, searched and dropped: it is never written to disk."""
    names = [g["name"] for g in gallery_stats(session)]
    form = {"gallery": gallery, "reason": reason, "crime_ref": crime_ref, "mode": mode}
    try:
        if mode not in ("OIFR", "RFR"):
            raise BadInputError("mode must be OIFR or RFR")
        data = await read_upload(image, services.settings.web.upload_max_mb)
        context = SearchContext(actor=user.username, reason=reason, crime_ref=crime_ref or None, mode=mode)
        candidates, quality = uploads.search_upload(services, gallery=gallery, data=data, context=context)
    except BadInputError as exc:
        return render(request, "search.html", user, 400, galleries=names, error=str(exc), form=form)
    return render(
        request, "search.html", user, galleries=names, form=form, candidates=candidates, quality=quality,
        threshold=services.engine.threshold,
    )  # fmt: skip
