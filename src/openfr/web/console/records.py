"""Subject access requests and the retention purge, from the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from openfr.errors import BadInputError
from openfr.services.subject_access import AccessRequest
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep
from openfr.web.errors import status_for
from openfr.web.pages import render
from openfr.web.sessions import ConsoleUser
from openfr.web.uploads import read_upload

router = APIRouter(include_in_schema=False)


@router.get("/subject-access")
def subject_access_form(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return render(request, "subject_access.html", me, form={}, galleries=app.subject_access.galleries(me))


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
    form = {"reason": reason, "reference": reference, "gallery": gallery}
    try:
        data = (
            await read_upload(photo, app.settings.web.upload_max_mb) if photo is not None and photo.filename else None
        )
        ask = AccessRequest(reason, reference or None, gallery or None)
        report = await heavy(request).run(RequestKind.SUBJECT_ACCESS, app.subject_access.report, me, ask, data)
    except BadInputError as exc:
        return render(request, "subject_access.html", me, status_for(exc), form=form, error=str(exc))
    return render(request, "subject_access.html", me, form=form, report=report)


@router.post("/retention/purge")
def purge(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    result = app.retention.purge(me)
    return render(request, "purged.html", me, result=result)
