"""`openfr report ...`: transparency reports and false-alert monitoring (as the signed-in account)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openfr.cli.common import emit, guarded, out, read_photo, signed_in
from openfr.services.reports import as_csv, parse_day
from openfr.services.subject_access import AccessRequest

report_app = typer.Typer(
    help="Published statistics: transparency reports, false-alert monitoring.", no_args_is_help=True
)


@report_app.command("transparency")
@guarded
def transparency(
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD) a deployment went live.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD), inclusive.")] = None,
    deployment: Annotated[str | None, typer.Option(help="Only this deployment.")] = None,
    public: Annotated[bool, typer.Option("--public", help="The version to publish: no personal data.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """One row per deployment: date, location, hours, watchlist size, people seen, alerts, outcomes."""
    app, me = signed_in()
    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter("--format must be table, csv or json")
    report = app.reports.transparency(
        me, since=parse_day(since, "--since"), until=parse_day(until, "--until"), deployment=deployment, public=public,
        fmt=fmt,
    )  # fmt: skip
    if fmt == "json":
        emit(report)
    elif fmt == "csv":
        sys.stdout.write(as_csv(report))
    elif fmt == "table":
        table = Table(*[c.replace("_", " ") for c in report["columns"]])
        for row in report["rows"]:
            table.add_row(*["" if row[c] is None else str(row[c]) for c in report["columns"]])
        out.print(table)
        out.print(f"totals: {report['totals']}")
    else:
        raise typer.BadParameter("--format must be table, csv or json")


@report_app.command("false-alerts")
@guarded
def false_alerts() -> None:
    """Per deployment and camera: false alerts against what the threshold predicts; flagged if too many."""
    app, me = signed_in()
    for row in app.reports.monitoring(me):
        emit(row)


@report_app.command("subject-access")
@guarded
def subject_access(
    reason: Annotated[str, typer.Option(help="Why the request is made, e.g. the DPO's case number (recorded).")],
    reference: Annotated[str | None, typer.Option(help="The person's reference in a gallery.")] = None,
    gallery: Annotated[str | None, typer.Option(help="Only this gallery's reference.")] = None,
    photo: Annotated[Path | None, typer.Option(help="The person's photo (searched in memory, never stored).")] = None,
    ticket: Annotated[str | None, typer.Option(help="A photo match's ticket (from --photo), to confirm.")] = None,
    confirm: Annotated[
        list[str] | None, typer.Option(help="A candidate of the match that is the person: GALLERY/REFERENCE.")
    ] = None,
) -> None:
    """Was this person on a watchlist? Galleries, deployment watchlists, alerts and searches naming them. By
    photo, two steps: --photo lists the candidates and a ticket (nothing disclosed); then --ticket with a
    --confirm for each candidate that is the person gives their records."""
    app, me = signed_in()
    if photo is not None:
        data = read_photo(photo)
        emit(app.subject_access.match(me, AccessRequest(reason, reference, gallery), data).as_dict())
        return
    ask = AccessRequest(reason, reference, gallery, confirmed=tuple(confirm or ()), ticket=ticket)
    emit(app.subject_access.report(me, ask))
