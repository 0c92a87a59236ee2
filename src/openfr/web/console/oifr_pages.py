"""The officer's phone page for operator-initiated facial recognition (OIFR): take a photo, choose the grounds
from the approved list, say what happened, and see custody-image candidates beside the photo with the
reminder that a candidate is a possible match only; then record what checking by other means found.

Thin adapters over `app.oifr` (services/oifr.py), where every rule lives. The photo is read into memory,
searched and dropped: it comes back drawn into the results page itself (an inline JPEG, see pictures.py),
never as a file or a URL, and the page is sent with `Cache-Control: no-store`. Nothing here logs.

The form is a plain multipart POST, so it works without a script; static/oifr.js sends it with fetch instead,
to show progress, time out, keep the photo in the page's memory for a retry, and say in words what went wrong.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from openfr.errors import BadInputError
from openfr.services import Principal
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep, RowId, TextForm
from openfr.web.error_answers import status_for
from openfr.web.pages import render
from openfr.web.pictures import FaceBox, ProbeView, probe_view
from openfr.web.sessions import ConsoleUser
from openfr.web.uploads import read_upload

router = APIRouter(include_in_schema=False)

TOP = 6  # candidates shown: enough for a custody database's near look-alikes, few enough to compare on a phone
# Longest side, in pixels, that the page's script shrinks a photo to before sending it. A 12 MP phone photo
# (4000 px, 3-6 MB) becomes ~2560 px (~1 MB): four times less to push through a poor signal, while a face's
# eyes keep 16 px apart (the quality gate's minimum) down to ~26 px apart in the original. Smaller photos go
# as taken; without the script the photo goes as taken too.
SEND_MAX_SIDE = 2560
# How long the script waits for the answer before it says so and offers Retry: a ~1 MB photo at 256 kbit/s
# (a weak 3G signal) takes ~30 s to send, and the search itself takes about a second.
TIMEOUT_S = 60
CROP_MARGIN = 0.35  # the face crop beside each candidate: the searched face's box and this much around it


def _page(request: Request, me: Principal, app, code: int = 200, **context) -> Response:
    """The page: its form (with what was typed, after a refusal), and the results or a recorded outcome."""
    context.setdefault("form", {})
    return render(
        request, "oifr.html", me, code, grounds=app.oifr.grounds(me), results=_results(app),
        galleries=app.oifr.galleries(me), send_max_side=SEND_MAX_SIDE, timeout_s=TIMEOUT_S, **context,
    )  # fmt: skip


def _results(app) -> dict[str, str]:
    """What an officer may record (the service's list), key -> the words on the page."""
    return {row["key"]: row["label"] for row in app.oifr.results()}


@router.get("/oifr")
def oifr_page(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return _page(request, me, app)


@router.post("/oifr")
async def oifr_search(
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    image: Annotated[UploadFile, File()],
    grounds: Annotated[str, Form(max_length=100)] = "",
    details: TextForm = "",
    location: Annotated[str, Form(max_length=300)] = "",
    gallery: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Search the photo; the answer page carries the probe inline and is never cached. A refusal (no face,
    grounds not on the list, no details, too large) answers the form again with the reason and what was typed.
    Where several galleries are approved for OIFR, the officer chooses one (the form offers them)."""
    form = {"grounds": grounds, "details": details, "location": location, "gallery": gallery}
    try:
        data = await read_upload(image, app.settings.web.upload_max_mb)
        result, probe = await heavy(request).run(RequestKind.OIFR, _search_and_draw, app, me, data, form)
    except BadInputError as exc:
        return _page(request, me, app, status_for(exc), error=str(exc), form=form)
    page = _page(request, me, app, result=result, probe=probe, crop=face_crop(probe))
    page.headers["Cache-Control"] = "no-store"  # the page carries the probe photo
    return page


@router.post("/oifr/searches/{search_id}/result")
def record_result(
    search_id: RowId,
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    result: Annotated[str, Form(max_length=100)] = "",
    note: TextForm = "",
) -> Response:
    """The officer's result for one of their searches. The answer is the page with the outcome recorded (the
    script puts that part in place of the buttons, beside the photo it still shows)."""
    try:
        done = app.oifr.record_result(me, search_id, result, note)
    except BadInputError as exc:
        return _page(request, me, app, status_for(exc), outcome_error=str(exc), search_id=search_id)
    label = _results(app).get(done["result"], done["result"])
    recorded = {**done, "label": label, "note": note.strip()}
    return _page(request, me, app, recorded=recorded, search_id=search_id)


def _search_and_draw(app, me: Principal, data: bytes, form: dict) -> tuple:
    """One heavy job: the search, then the probe drawn for the page (never a search without its picture)."""
    result = app.oifr.search(
        me, data, grounds=form["grounds"], details=form["details"], location=form["location"],
        gallery=form["gallery"] or None, top=TOP,
    )  # fmt: skip
    return result, probe_view(result.image, result.faces)


def face_crop(probe: ProbeView, margin: float = CROP_MARGIN) -> FaceBox | None:
    """A square around the searched face, in the drawn probe's coordinates, for the small copy of the photo
    beside each candidate (an SVG <use> of the one inline picture, so the photo is sent once)."""
    searched = next((b for b in probe.boxes if b.searched), None)
    if searched is None:
        return None
    side = max(searched.width, searched.height) * (1 + 2 * margin)
    cx, cy = searched.x + searched.width / 2, searched.y + searched.height / 2
    side = min(side, probe.width, probe.height)
    x = min(max(0.0, cx - side / 2), probe.width - side)
    y = min(max(0.0, cy - side / 2), probe.height - side)
    return FaceBox(searched.number, round(x, 1), round(y, 1), round(side, 1), round(side, 1), True, searched.usable)
