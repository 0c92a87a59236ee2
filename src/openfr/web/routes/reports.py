"""Transparency reports, false-alert monitoring, subject access and the retention purge."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import PlainTextResponse

from openfr.services.reports import as_csv, parse_day
from openfr.services.subject_access import AccessRequest
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep, CurrentUser
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
        me, since=parse_day(since, "since"), until=parse_day(until, "until"), deployment=deployment, public=public
    )
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
    """Was this person on a watchlist? Either a reference or a photo."""
    data = await read_upload(photo, app.settings.web.upload_max_mb) if photo is not None else None
    ask = AccessRequest(reason, reference or None, gallery or None)
    return await heavy(request).run(RequestKind.SUBJECT_ACCESS, app.subject_access.report, me, ask, data)


@router.post("/retention/purge")
def purge(app: AppDep, me: CurrentUser) -> dict:
    """Erase everything past its retention now (the server also does this on a schedule)."""
    return app.retention.purge(me)
