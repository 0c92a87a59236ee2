"""Galleries and subjects (browse, enrol by upload, delete with a reason) and the search page, whose photo
upload opens the camera on a phone."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from openfr.errors import BadInputError
from openfr.services import Principal
from openfr.services.galleries import EnrolFields
from openfr.services.searches import SearchRequest
from openfr.store.live import CATEGORIES
from openfr.web.admission import heavy
from openfr.web.deps import AppDep
from openfr.web.errors import status_for
from openfr.web.pages import render
from openfr.web.sessions import ConsoleUser
from openfr.web.uploads import read_upload

router = APIRouter(include_in_schema=False)


@router.get("/galleries")
def galleries(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return render(request, "galleries.html", me, galleries=app.galleries.list(me), categories=CATEGORIES)


def _gallery_page(request, me: Principal, app, name: str, q: str = "", code: int = 200, **extra) -> Response:
    rows = app.galleries.subjects(me, name, q=q, limit=200)
    return render(request, "gallery.html", me, code, name=name, rows=rows, q=q, categories=CATEGORIES, **extra)


@router.get("/galleries/{name}")
def gallery(name: str, request: Request, me: ConsoleUser, app: AppDep, q: str = "") -> Response:
    return _gallery_page(request, me, app, name, q)


@router.post("/enrol")
async def enrol(
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    gallery: Annotated[str, Form(max_length=200)],
    subject: Annotated[str, Form(max_length=200)],
    source: Annotated[str, Form(max_length=2000)],
    image: Annotated[UploadFile, File()],
    display_name: Annotated[str, Form(max_length=300)] = "",
    category: Annotated[str, Form(max_length=100)] = "",
    legal_basis: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    fields = EnrolFields(gallery, subject, source, display_name, category, legal_basis)
    try:
        data = await read_upload(image, app.settings.web.upload_max_mb)
        name = image.filename or ""
        report = await heavy(request).run(app.galleries.enrol_upload, me, fields, filename=name, data=data)
    except BadInputError as exc:
        return render(
            request, "galleries.html", me, status_for(exc), galleries=app.galleries.list(me), categories=CATEGORIES,
            error=str(exc), form=asdict(fields),
        )  # fmt: skip
    result = report.as_dict()
    if result["already_enrolled"]:
        message, code = "This image of this subject was already enrolled.", 200
    else:
        message, code = f"Enrolled one image of {subject.strip()}.", 201
    return _gallery_page(request, me, app, report.gallery, code=code, message=message)


@router.post("/galleries/{name}/subjects/{subject}/delete")
def delete(
    name: str,
    subject: str,
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        app.galleries.delete_subject(me, name, subject, reason)
    except BadInputError as exc:
        return _gallery_page(request, me, app, name, code=status_for(exc), error=str(exc))
    return _gallery_page(request, me, app, name, message=f"Deleted {subject} with every image and template.")


@router.get("/search")
def search_page(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return render(request, "search.html", me, galleries=app.galleries.names(me))


@router.post("/search")
async def search(
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    gallery: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=2000)],
    image: Annotated[UploadFile, File()],
    crime_ref: Annotated[str, Form(max_length=200)] = "",
    mode: Annotated[str, Form()] = "OIFR",
    poor_probe_reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The photo is read into memory, searched and dropped: it is never written to disk."""
    names = app.galleries.names(me)
    form = {"gallery": gallery, "reason": reason, "crime_ref": crime_ref, "mode": mode}
    form["poor_probe_reason"] = poor_probe_reason
    try:
        data = await read_upload(image, app.settings.web.upload_max_mb)
        wanted = SearchRequest(gallery, reason, crime_ref or None, mode, poor_probe_reason=poor_probe_reason)
        result = await heavy(request).run(app.search.search, me, wanted, data, name="photo")
    except BadInputError as exc:
        return render(request, "search.html", me, status_for(exc), galleries=names, error=str(exc), form=form)
    return render(
        request, "search.html", me, galleries=names, form=form, candidates=result.candidates,
        quality=result.probe_quality, warning=result.warning, threshold=app.runtime.engine.threshold,
    )  # fmt: skip
