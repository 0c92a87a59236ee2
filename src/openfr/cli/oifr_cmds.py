"""`openfr oifr search` and `openfr oifr result`: the operator-initiated search from the command line, a thin
adapter over services/oifr.py run as the signed-in account (the phone page and the API are the usual doors;
this one serves scripted checks and officers at a desk). The photo is read into memory and never stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, candidates_table, emit, err, guarded, out, read_photo, signed_in
from openfr.services.oifr import GROUNDS, RESULTS, TOP, TOP_MAX

oifr_app = typer.Typer(
    help="Operator-initiated facial recognition: search a photo on approved grounds, record the result.",
    no_args_is_help=True,
)


@oifr_app.command("search")
@guarded
def search(
    image: Annotated[Path, typer.Argument(help="The photo of the person (read into memory; never stored).")],
    grounds: Annotated[str, typer.Option(help=f"Approved grounds, one of: {', '.join(GROUNDS)} (recorded).")] = "",
    details: Annotated[str, typer.Option(help="The grounds in your own words (required; recorded).")] = "",
    location: Annotated[str, typer.Option(help="Where the search is made (recorded).")] = "",
    gallery: Annotated[
        str | None, typer.Option(help="A gallery approved for OIFR (default: the only one that is).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, max=TOP_MAX, help="At most this many candidates.")] = TOP,
    json: JsonFlag = False,
) -> None:
    """Candidates at or above the threshold, each a possible match to confirm by other means. Recorded: who,
    the grounds, your details, where, and the candidates listed (never the photo)."""
    app, me = signed_in()
    photo = read_photo(image)
    found = app.oifr.search(me, photo, grounds=grounds, details=details, location=location, gallery=gallery, top=top)
    del photo
    if json:
        emit(found.as_dict())
        return
    title = f"search {found.search_id}: candidates in '{found.gallery}' ({found.elapsed_ms:.0f} ms)"
    table = candidates_table(title, found.candidates)
    out.print(table if found.candidates else f"search {found.search_id}: no candidate at or above the threshold")
    if found.candidates:
        out.print(found.wording)
    if found.warning:
        err.print(f"warning: {found.warning}", markup=False, soft_wrap=True)
    err.print(f"record the result: openfr oifr result {found.search_id} {'|'.join(RESULTS)}", markup=False)


@oifr_app.command("result")
@guarded
def result(
    search_id: Annotated[int, typer.Argument(help="The search's number (from `openfr oifr search`).")],
    outcome: Annotated[str, typer.Argument(metavar="RESULT", help=f"One of: {', '.join(RESULTS)}.")],
    note: Annotated[str, typer.Option(help="Optional note (recorded as the reason).")] = "",
    json: JsonFlag = False,
) -> None:
    """Record what came of one of your searches: once, and only by you."""
    app, me = signed_in()
    done = app.oifr.record_result(me, search_id, outcome, note)
    if json:
        emit(done)
    else:
        out.print(f"search {done['search_id']}: result recorded ({done['result']})")
