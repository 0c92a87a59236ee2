"""Galleries and subjects, enrolment by upload, and searches (operator-initiated and retrospective)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile

from openfr.services.galleries import EnrolFields
from openfr.services.searches import SearchRequest
from openfr.web.admission import heavy
from openfr.web.deps import AppDep, CurrentUser
from openfr.web.uploads import read_upload

router = APIRouter(prefix="/api", tags=["galleries and search"])


@router.get("/galleries")
def galleries(app: AppDep, me: CurrentUser) -> list[dict]:
    return app.galleries.list(me)


@router.get("/galleries/{name}/subjects")
def subjects(name: str, app: AppDep, me: CurrentUser, q: str = "", offset: int = 0, limit: int = 100) -> list[dict]:
    return app.galleries.subjects(me, name, q=q, offset=offset, limit=limit)


@router.post("/galleries/{name}/enrol")
async def enrol(
    name: str,
    request: Request,
    app: AppDep,
    me: CurrentUser,
    image: Annotated[UploadFile, File(description="One photo of the subject.")],
    subject: Annotated[str, Form(description="The force's reference for the person.")],
    source: Annotated[str, Form(description="Where the image came from (provenance).")],
    display_name: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    legal_basis: Annotated[str, Form()] = "",
) -> dict:
    fields = EnrolFields(name, subject, source, display_name, category, legal_basis)
    data = await read_upload(image, app.settings.web.upload_max_mb)
    filename = image.filename or ""
    report = await heavy(request).run(app.galleries.enrol_upload, me, fields, filename=filename, data=data)
    return report.as_dict()


@router.delete("/galleries/{name}/subjects/{subject}")
def remove_subject(name: str, subject: str, app: AppDep, me: CurrentUser, reason: str = "") -> dict:
    """Erase a subject with every image and template (recorded with the reason, which is required)."""
    return app.galleries.delete_subject(me, name, subject, reason)


@router.post("/search")
async def search(
    http: Request,
    app: AppDep,
    me: CurrentUser,
    image: Annotated[UploadFile, File(description="The probe photo; never stored.")],
    gallery: Annotated[str, Form()],
    reason: Annotated[str, Form(description="Why the search is made (recorded).")],
    crime_ref: Annotated[str, Form()] = "",
    mode: Annotated[Literal["OIFR", "RFR"], Form()] = "RFR",
    top: Annotated[int, Form(ge=1, le=200)] = 10,
    poor_probe_reason: Annotated[str, Form(description="Why a photo below the quality gate is searched.")] = "",
) -> dict:
    """Ranked candidates: investigative leads for a trained reviewer, never identifications. A photo whose face
    fails the quality gate is searched too; `warning` then says why the candidates deserve extra caution."""
    data = await read_upload(image, app.settings.web.upload_max_mb)
    request = SearchRequest(gallery, reason, crime_ref or None, mode, top, poor_probe_reason)
    result = await heavy(http).run(app.search.search, me, request, data, name=image.filename or "probe")
    return {
        "gallery": gallery,
        "probe_quality": result.probe_quality,
        "warning": result.warning,
        "candidates": result.as_dict()["candidates"],
    }
