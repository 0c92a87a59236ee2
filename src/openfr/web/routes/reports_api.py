"""Transparency reports, false-alert monitoring, subject access and the retention purge."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, Field

from openfr.services.reports import as_csv, parse_day
from openfr.services.subject_access import AccessRequest
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep, CandidateIndex, CurrentUser, MatchTicket
from openfr.web.pictures import private_file
from openfr.web.uploads import read_upload

router = APIRouter(prefix="/api", tags=["reports"])


@router.get("/reports/transparency", response_model=None)
def transparency(
    app: AppDep,
    me: CurrentUser,
    since: str | None = None,
    until: str | None = None,
    deployment: str | None = None,
    public: bool = False,
    format: Literal["json", "csv"] = "json",
) -> dict | PlainTextResponse:
    """One row per deployment that went live in the period (days inclusive, YYYY-MM-DD); `public=true`
    leaves out everything about people, for publication."""
    report = app.reports.transparency(
        me, since=parse_day(since, "since"), until=parse_day(until, "until"), deployment=deployment, public=public,
        fmt=format,
    )  # fmt: skip
    if format == "csv":
        return PlainTextResponse(as_csv(report), media_type="text/csv")
    return report


@router.get("/reports/false-alerts")
def false_alerts(app: AppDep, me: CurrentUser) -> list[dict]:
    return app.reports.monitoring(me)


@router.post("/subject-access")
async def subject_access(
    request: Request,
    app: AppDep,
    me: CurrentUser,
    reason: Annotated[str, Form(description="Why the request is made (recorded).")],
    reference: Annotated[str, Form(description="The person's reference in a gallery.")] = "",
    gallery: Annotated[str, Form(description="Only this gallery's reference.")] = "",
    photo: Annotated[UploadFile | None, File(description="The person's photo (never stored).")] = None,
) -> dict:
    """Was this person on a watchlist? With a reference: the report. With a photo: step one, the candidates
    at the identification threshold (`step: confirm`), each with its enrolled image to compare, and a
    `ticket`; nothing about their records is disclosed until POST /api/subject-access/confirm."""
    data = await read_upload(photo, app.settings.web.upload_max_mb) if photo is not None else None
    ask = AccessRequest(reason, reference or None, gallery or None)
    if data is not None:
        found = await heavy(request).run(RequestKind.SUBJECT_ACCESS, app.subject_access.match, me, ask, data)
        return found.as_dict()
    return await heavy(request).run(RequestKind.SUBJECT_ACCESS, app.subject_access.report, me, ask, None)


class Confirmation(BaseModel):
    reason: Annotated[str, Field(max_length=2000, description="Why the request is made (recorded).")]
    ticket: Annotated[str, Field(max_length=20000, description="The photo match's ticket.")]
    confirmed: Annotated[
        list[Annotated[str, Field(max_length=420)]],
        Field(max_length=100, description='The candidates that are the person, as "gallery/reference".'),
    ] = []


@router.post("/subject-access/confirm")
def subject_access_confirm(body: Confirmation, app: AppDep, me: CurrentUser) -> dict:
    """Step two of a request by photo: the records of the candidates the auditor confirmed are the person
    (none confirmed: nothing is disclosed)."""
    ask = AccessRequest(body.reason, confirmed=tuple(body.confirmed), ticket=body.ticket)
    return app.subject_access.report(me, ask)


@router.get("/subject-access/candidates/{index}/image")
def subject_access_candidate(index: CandidateIndex, ticket: MatchTicket, app: AppDep, me: CurrentUser) -> FileResponse:
    """A photo match's candidate's enrolled image, for the auditor who made the match; never cached."""
    path = app.subject_access.candidate_image(me, ticket, index)
    return private_file(path)


@router.post("/retention/purge")
def purge(app: AppDep, me: CurrentUser) -> dict:
    """Erase everything past its retention now (the server also does this on a schedule)."""
    return app.retention.purge(me)
