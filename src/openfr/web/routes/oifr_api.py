"""Operator-initiated facial recognition over the API: the approved grounds, the officer's search, and the
result they record. Thin adapters over services/oifr.py; the phone page and `openfr bench oifr` use them.

The photo is read into memory (web/uploads.py; the app keeps uploads off the disk), searched on the heavy
pool (503 with Retry-After when the server is saturated) and dropped with the request; the answer says
`Cache-Control: no-store` so no cache along the way keeps the names it carries.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from openfr.services.oifr import TOP, TOP_MAX
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep, CurrentUser, RowId
from openfr.web.uploads import read_upload

router = APIRouter(prefix="/api/oifr", tags=["operator-initiated search"])
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/grounds")
def grounds(app: AppDep, me: CurrentUser) -> list[dict]:
    """The approved grounds for an operator-initiated search: `key` to send, `label` to show."""
    return app.oifr.grounds(me)


@router.post("/search")
async def search(
    http: Request,
    app: AppDep,
    me: CurrentUser,
    image: Annotated[UploadFile, File(description="The photo of the person; never stored.")],
    grounds: Annotated[str, Form(description="A key of GET /api/oifr/grounds (recorded).")] = "",
    details: Annotated[str, Form(description="The grounds in the officer's own words (required; recorded).")] = "",
    location: Annotated[str, Form(description="Where the search is made (recorded).")] = "",
    gallery: Annotated[str, Form(description="A gallery approved for OIFR; default: the only one.")] = "",
    top: Annotated[int, Form(ge=1, le=TOP_MAX, description=f"At most this many candidates (1-{TOP_MAX}).")] = TOP,
) -> JSONResponse:
    """Candidates at or above the threshold, best first: each a possible match to confirm by other means
    (`wording`), with the URL of its custody image (for this officer only; every look recorded). 400: no
    face, unknown grounds, no details; 409: the gallery is not approved for OIFR; 413: the photo is too
    large; 503 + Retry-After: the server is busy, try again."""
    data = await read_upload(image, app.settings.web.upload_max_mb)
    found = await heavy(http).run(
        RequestKind.OIFR, app.oifr.search, me, data, grounds=grounds, details=details, location=location,
        gallery=gallery or None, top=top,
    )  # fmt: skip
    del data  # not kept past the search (the request's own buffers go with it)
    return JSONResponse(found.as_dict(), headers=NO_STORE)


class Outcome(BaseModel):
    result: Annotated[str, Field(max_length=40, description="confirmed-by-other-means, not-the-person, inconclusive")]
    note: Annotated[str, Field(max_length=2000, description="Optional; recorded as the event's reason.")] = ""


@router.post("/searches/{search_id}/result")
def record_result(search_id: RowId, body: Outcome, app: AppDep, me: CurrentUser) -> dict:
    """What came of the search, recorded once by the officer who made it (someone else's: 404; twice: 409)."""
    done = app.oifr.record_result(me, search_id, body.result, body.note)
    return {"search_id": done["search_id"], "result": done["result"], "result_at": done["result_at"]}
