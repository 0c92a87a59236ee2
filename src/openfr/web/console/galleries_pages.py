"""Galleries and subjects (browse, enrol by upload, delete with a reason) and the search page, whose photo
upload opens the camera on a phone."""

from __future__ import annotations

import re
from dataclasses import asdict
from functools import partial
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from openfr.errors import BadInputError
from openfr.services import Principal
from openfr.services.galleries import EnrolFields
from openfr.services.searches import SearchRequest, SearchResult
from openfr.store.live_tables import CATEGORIES
from openfr.web.admission import RequestKind, heavy
from openfr.web.console.two_steps import two_steps
from openfr.web.deps import AppDep, ConfirmForm, Grant, Rank, RowId, TextForm
from openfr.web.error_answers import status_for
from openfr.web.pages import render
from openfr.web.pictures import ProbeView, private_thumbnail, probe_view, quality_notes
from openfr.web.sessions import ConsoleUser
from openfr.web.uploads import read_upload

router = APIRouter(include_in_schema=False)


@router.get("/galleries")
def galleries(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return _galleries_page(request, me, app)


def _galleries_page(request, me: Principal, app, code: int = 200, **extra) -> Response:
    """The galleries with their uses, the form that creates one, the enrolment form, whose gallery is chosen
    from them, and (administrators) the form that approves a gallery's uses."""
    return render(
        request, "galleries.html", me, code, galleries=app.galleries.list(me), categories=CATEGORIES,
        uses=app.galleries.use_catalogue(), **extra,
    )  # fmt: skip


@router.post("/galleries")
def create_gallery(
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    name: Annotated[str, Form(max_length=200)] = "",
    purpose: TextForm = "",
    uses: Annotated[list[str] | None, Form(max_length=10)] = None,
    uses_shown: Annotated[str, Form(max_length=1)] = "",  # the form had the checkboxes: none ticked means none
) -> Response:
    chosen = uses or ([] if uses_shown else None)
    try:
        row = app.galleries.create(me, name, purpose, chosen)
    except BadInputError as exc:
        new = {"name": name, "purpose": purpose, "uses": chosen}
        return _galleries_page(request, me, app, status_for(exc), error=str(exc), new=new)
    message = f"Created gallery {row['name']} (uses: {', '.join(row['uses'])}). Enrol its first images below."
    return _galleries_page(request, me, app, 201, message=message, form={"gallery": row["name"]})


@router.post("/galleries/{name}/uses")
def set_gallery_uses(
    name: str,
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    uses: Annotated[list[str] | None, Form(max_length=10)] = None,
    reason: TextForm = "",
) -> Response:
    """Approve a gallery for exactly the uses ticked (none: withdrawn from every use), with the reason."""
    try:
        row = app.galleries.set_uses(me, name, uses or [], reason)
    except BadInputError as exc:
        change = {"gallery": name, "uses": uses or [], "reason": reason}
        return _galleries_page(request, me, app, status_for(exc), error=str(exc), change=change)
    now = ", ".join(row["uses"]) or "none"
    message = f"Gallery {row['name']}: uses {now}." if row["changed"] else f"Gallery {row['name']}: uses unchanged."
    return _galleries_page(request, me, app, message=message)


def _gallery_page(
    request, me: Principal, app, name: str, q: str = "", code: int = 200, page: int = 1, **extra
) -> Response:
    """A page of the gallery's subjects with their thumbnails (each fetched, and recorded, on its own)."""
    found = app.galleries.subjects_page(me, name, q=q, page=page)
    return render(
        request, "gallery.html", me, code, name=name, rows=found.rows, listing=found, q=q, categories=CATEGORIES,
        **extra,
    )  # fmt: skip


def _page_number(text: str) -> int:
    """The `page` query parameter: a whole number from 1, or a clear 400 (FastAPI's 422 would not say why)."""
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()):  # ASCII digits only: int() refuses "²", which isdigit() admits
        raise BadInputError(f"page must be a whole number from 1, not {text[:20]!r}")
    return int(text)


@router.get("/galleries/{name}")
def gallery(name: str, request: Request, me: ConsoleUser, app: AppDep, q: str = "", page: str = "1") -> Response:
    return _gallery_page(request, me, app, name, q, page=_page_number(page))


@router.get("/galleries/{name}/subjects/{subject}/image.jpg")
def subject_image(name: str, subject: str, app: AppDep, me: ConsoleUser, grant: Grant = None) -> Response:
    """A subject's thumbnail for the gallery page: refused without gallery.read, recorded when served."""
    return _thumbnail(app, app.galleries.subject_image(me, name, subject, grant=grant))


def _thumbnail(app, path) -> Response:
    return private_thumbnail(path, max_pixels=app.settings.engine.max_image_pixels)


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
    legal_basis: TextForm = "",
) -> Response:
    fields = EnrolFields(gallery, subject, source, display_name, category, legal_basis)
    try:
        data = await read_upload(image, app.settings.web.upload_max_mb)
        name = image.filename or ""
        report = await heavy(request).run(
            RequestKind.ENROLMENT, app.galleries.enrol_upload, me, fields, filename=name, data=data
        )
    except BadInputError as exc:
        return _galleries_page(request, me, app, status_for(exc), error=str(exc), form=asdict(fields))
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
    reason: TextForm = "",
    confirm: ConfirmForm = "",
) -> Response:
    """Two steps: the first answers with what the deletion removes and asks for the reason; the second
    (`confirm=yes`) deletes."""
    return two_steps(
        confirm,
        ask=partial(_confirm_delete, request, me, app, name, subject, reason),
        act=lambda: app.galleries.delete_subject(me, name, subject, reason),
        done=lambda _: _gallery_page(
            request, me, app, name, message=f"Deleted {subject} with every image and template."
        ),
        refused=lambda exc: _gallery_page(request, me, app, name, code=status_for(exc), error=str(exc)),
    )


def _confirm_delete(request, me: Principal, app, name: str, subject: str, reason: str, code=200, **extra):
    found = app.galleries.deletion_preview(me, name, subject)
    return render(
        request, "confirm.html", me, code, **extra, heading=f"Delete {subject} from {name}?",
        action=f"/galleries/{name}/subjects/{subject}/delete", reason=reason, cancel=f"/galleries/{name}",
        confirm_label=f"Delete {subject}", reason_hint="For example: acquitted; no further action; record withdrawn.",
        consequences=[
            f"Subject {subject}, its {found['images']} image record(s) and {found['templates']} template(s) are "
            "erased from the gallery and from every watchlist drawn from it, for good.",
            "The deletion and its reason are recorded in the audit trail.",
        ],
    )  # fmt: skip


@router.get("/search")
def search_page(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return render(request, "search.html", me, galleries=app.galleries.searchable(me))


@router.post("/search")
async def search(
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    gallery: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=2000)],
    image: Annotated[UploadFile, File()],
    crime_ref: Annotated[str, Form(max_length=200)] = "",
    poor_probe_reason: TextForm = "",
    show_all: Annotated[bool, Form()] = False,
) -> Response:
    """A retrospective search (an officer's phone search is /oifr). The photo is read into memory, searched
    and dropped: it is never written to disk. It comes back drawn into the page itself (an inline JPEG with
    SVG face boxes), so no URL can fetch it again."""
    names = app.galleries.searchable(me)
    form = {"gallery": gallery, "reason": reason, "crime_ref": crime_ref, "show_all": show_all}
    form["poor_probe_reason"] = poor_probe_reason
    try:
        data = await read_upload(image, app.settings.web.upload_max_mb)
        wanted = SearchRequest(
            gallery, reason, crime_ref or None, "RFR", poor_probe_reason=poor_probe_reason, show_all=show_all
        )
        result, probe = await heavy(request).run(RequestKind.SEARCH, _search_and_draw, app, me, wanted, data)
    except BadInputError as exc:
        return render(
            request, "search.html", me, status_for(exc), galleries=names, error=str(exc), form=form,
        )  # fmt: skip
    page = render(
        request, "search.html", me, galleries=names, form=form, result=result, candidates=result.candidates,
        probe=probe, notes=quality_notes(result.probe_quality, app.runtime.engine.quality), warning=result.warning,
        threshold=result.threshold,
    )  # fmt: skip
    page.headers["Cache-Control"] = "no-store"  # the page carries the probe photo (headers.py says so too)
    return page


@router.get("/searches/{search_id}/candidates/{rank}/image.jpg")
def candidate_image(search_id: RowId, rank: Rank, app: AppDep, me: ConsoleUser, grant: Grant = None) -> Response:
    """The thumbnail beside a candidate: only for the searcher, only candidates the search listed; recorded."""
    return _thumbnail(app, app.search.candidate_image(me, search_id, rank, grant=grant))


def _search_and_draw(app, me: Principal, wanted: SearchRequest, data: bytes) -> tuple[SearchResult, ProbeView]:
    """One heavy job: the search, then the probe drawn for the page (never a search without its picture)."""
    result = app.search.search(me, wanted, data, name="photo")
    return result, probe_view(result.image, result.faces)
