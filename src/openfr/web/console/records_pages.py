"""Subject access requests and the retention purge, from the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from openfr.errors import BadInputError
from openfr.services.subject_access import AccessRequest
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep, CandidateIndex, MatchTicket, TextForm
from openfr.web.error_answers import status_for
from openfr.web.pages import render
from openfr.web.pictures import private_thumbnail
from openfr.web.sessions import ConsoleUser
from openfr.web.uploads import read_upload

router = APIRouter(include_in_schema=False)


@router.get("/subject-access")
def subject_access_form(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return _page(request, me, app, form={})


@router.post("/subject-access")
async def subject_access(
    request: Request,
    me: ConsoleUser,
    app: AppDep,
    reason: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    gallery: Annotated[str, Form()] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """With a reference: the report. With a photo: its candidates, each beside its enrolled image, for the
    auditor to confirm which (if any) are the person before anything about them is shown."""
    form = {"reason": reason, "reference": reference, "gallery": gallery}
    try:
        data = (
            await read_upload(photo, app.settings.web.upload_max_mb) if photo is not None and photo.filename else None
        )
        ask = AccessRequest(reason, reference or None, gallery or None)
        if data is not None:
            found = await heavy(request).run(RequestKind.SUBJECT_ACCESS, app.subject_access.match, me, ask, data)
            page = _page(request, me, app, form=form, match=found.as_dict())
            page.headers["Cache-Control"] = "no-store"
            return page
        report = await heavy(request).run(RequestKind.SUBJECT_ACCESS, app.subject_access.report, me, ask, None)
    except BadInputError as exc:
        return _page(request, me, app, status_for(exc), form=form, error=str(exc))
    return _page(request, me, app, form=form, report=report)


@router.post("/subject-access/confirm")
def subject_access_confirm(
    request: Request,
    me: ConsoleUser,
    app: AppDep,
    reason: TextForm = "",
    ticket: Annotated[str, Form(max_length=20000)] = "",
    confirmed: Annotated[list[str] | None, Form(max_length=100)] = None,
) -> Response:
    """The records of the candidates the auditor ticked as the person (none ticked: nothing disclosed)."""
    form = {"reason": reason}
    try:
        ask = AccessRequest(reason, confirmed=tuple(confirmed or ()), ticket=ticket)
        report = app.subject_access.report(me, ask)
    except BadInputError as exc:
        return _page(request, me, app, status_for(exc), form=form, error=str(exc))
    return _page(request, me, app, form=form, report=report, confirmed=len(confirmed or ()))


@router.get("/subject-access/candidates/{index}/image.jpg")
def subject_access_candidate(index: CandidateIndex, ticket: MatchTicket, app: AppDep, me: ConsoleUser) -> Response:
    path = app.subject_access.candidate_image(me, ticket, index)
    return private_thumbnail(path, max_pixels=app.settings.engine.max_image_pixels)


def _page(request: Request, me, app, code: int = 200, **context) -> Response:
    return render(request, "subject_access.html", me, code, galleries=app.subject_access.galleries(me), **context)


@router.post("/retention/purge")
def purge(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    result = app.retention.purge(me)
    return render(request, "purged.html", me, result=result)
