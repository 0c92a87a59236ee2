"""Galleries and subjects, enrolment by upload, and searches (operator-initiated and retrospective)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from openfr.services.galleries import EnrolFields
from openfr.services.searches import SearchRequest
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep, CurrentUser, Grant, Offset, Rank, RowId
from openfr.web.pictures import private_file
from openfr.web.uploads import read_upload

router = APIRouter(prefix="/api", tags=["galleries and search"])


@router.get("/galleries")
def galleries(app: AppDep, me: CurrentUser) -> list[dict]:
    return app.galleries.list(me)


UsesField = Annotated[
    list[Annotated[str, Field(max_length=20)]],
    Field(max_length=10, description="What its images may be used for: oifr, rfr, live."),
]


class NewGallery(BaseModel):
    name: Annotated[str, Field(max_length=200, description="Letters, digits, '.', '_' or '-'.")]
    purpose: Annotated[str, Field(max_length=2000, description="What the gallery is for (required; recorded).")]
    uses: UsesField | None = None  # default: ["rfr"]; any other use needs gallery.manage


class GalleryUsesChange(BaseModel):
    uses: UsesField
    reason: Annotated[str, Field(max_length=2000, description="Why the uses change (required; recorded).")] = ""


@router.post("/galleries", status_code=201)
def create_gallery(body: NewGallery, app: AppDep, me: CurrentUser) -> dict:
    """Create an empty gallery with its purpose and uses (default: retrospective search alone). Enrolment
    never creates one: enrolling into a gallery that does not exist is a 404 ("create it first"), so a
    mistyped name cannot start a new gallery."""
    return app.galleries.create(me, body.name, body.purpose, body.uses)


@router.post("/galleries/{name}/uses")
def set_gallery_uses(name: str, body: GalleryUsesChange, app: AppDep, me: CurrentUser) -> dict:
    """Approve the gallery for exactly these uses (purpose limitation), with the reason; administrators.
    An empty list withdraws it from every use. Searches and deployment plans refuse (409) a gallery that
    is not approved for what they do."""
    return app.galleries.set_uses(me, name, body.uses, body.reason)


@router.get("/galleries/{name}/subjects")
def subjects(
    name: str, app: AppDep, me: CurrentUser, q: str = "", offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict]:  # fmt: skip
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
    """Enrol one photo into an existing gallery (404 if there is none by that name: create it first). A photo
    that is not enrolled (no face, below the quality gate) is a 422 and keeps nothing, not even the subject."""
    fields = EnrolFields(name, subject, source, display_name, category, legal_basis)
    data = await read_upload(image, app.settings.web.upload_max_mb)
    filename = image.filename or ""
    report = await heavy(request).run(
        RequestKind.ENROLMENT, app.galleries.enrol_upload, me, fields, filename=filename, data=data
    )
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
    mode: Annotated[
        Literal["OIFR", "RFR"], Form(description="RFR only: OIFR is refused here (its door is POST /api/oifr/search).")
    ] = "RFR",
    top: Annotated[int, Form(ge=1, le=200)] = 10,
    poor_probe_reason: Annotated[str, Form(description="Why a photo below the quality gate is searched.")] = "",
    show_all: Annotated[
        bool, Form(description="List the whole ranking of `top`, below the threshold too (recorded).")
    ] = False,
) -> dict:
    """A retrospective search: candidates at or above the identification threshold for the gallery's size (the
    whole ranking with `show_all`, each then with `reached`): investigative leads for a trained reviewer, never
    identifications. `false_candidates` says in words how often a search of someone who is not in the gallery
    lists anyone at that threshold. A photo whose face fails the quality
    gate is searched too; `warning` then says why the candidates deserve extra caution. `faces` are the boxes
    of every face found ([x1, y1, x2, y2] in pixels of the photo as searched: upright, and shrunk by a whole
    factor if larger than `engine.working_pixels`), the searched one (the largest) marked."""
    data = await read_upload(image, app.settings.web.upload_max_mb)
    request = SearchRequest(gallery, reason, crime_ref or None, mode, top, poor_probe_reason, show_all)
    result = await heavy(http).run(
        RequestKind.SEARCH, app.search.search, me, request, data, name=image.filename or "probe"
    )
    return {
        "gallery": gallery,
        "search_id": result.search_id,
        "probe_quality": result.probe_quality,
        "warning": result.warning,
        "faces": result.faces,
        "threshold": round(result.threshold, 4),
        "gallery_size": result.gallery_size,
        "false_candidates": result.as_dict()["false_candidates"],
        "show_all": result.show_all,
        "candidates": [
            {**c.as_dict(), "reached": c.score >= result.threshold, "grant": result.grants.get(c.rank)}
            for c in result.candidates
        ],
    }


@router.get("/searches/{search_id}/candidates/{rank}/image")
def candidate_image(search_id: RowId, rank: Rank, app: AppDep, me: CurrentUser, grant: Grant = None) -> FileResponse:
    """The enrolled image (the stored file) of a candidate that one of your searches listed; every look is
    recorded (with the `grant` the search answered with, by the search's own event). Someone else's search,
    or a rank it did not list, is a 404."""
    path = app.search.candidate_image(me, search_id, rank, grant=grant)
    return private_file(path)
