"""`openfr audit ...`: check, browse and export the hash-chained audit trail (as the signed-in account)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, emit, err, fail, guarded, print_or_check, signed_in
from openfr.governance.events_doc import events_reference

audit_app = typer.Typer(help="The tamper-evident audit trail: verify, head, list.", no_args_is_help=True)


@audit_app.command("verify")
@guarded
def verify(
    expect_head: Annotated[
        str | None, typer.Option(help="A head hash kept elsewhere (from `openfr audit head`): also catches truncation.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Recompute the whole chain and check every seal and checkpoint. Exit 1 and name each event that was
    edited, inserted, deleted or unsealed, and the first bad one (`first_bad` in --json)."""
    app, me = signed_in()
    report = app.audit.verify(me, expect_head)
    if json:
        emit(report.as_dict())
    elif report.ok:
        err.print(f"audit trail intact: {report.events} events, head {report.head[:16]}...")
    for problem in report.problems if not json else []:
        err.print(f"  {problem}", markup=False)
    if not report.ok:
        first = f", first bad event {report.first_bad}" if report.first_bad is not None else ""
        fail(f"the audit trail has been tampered with ({len(report.problems)} problem(s){first})", 1)


@audit_app.command("actions")
@guarded
def actions() -> None:
    """Every action an audit event can record, with its meaning (what --action takes); one JSON line each."""
    app, me = signed_in()
    for row in app.audit.actions(me):
        emit(row)


@audit_app.command("docs")
@guarded
def docs(
    check: Annotated[bool, typer.Option(help="Exit 1 if docs/audit-events.md differs.")] = False,
) -> None:
    """Print the audit events reference (the text of docs/audit-events.md), generated from the vocabulary."""
    print_or_check(events_reference(), Path("docs/audit-events.md"), check)


@audit_app.command("head")
@guarded
def head() -> None:
    """The newest event's position and hash (JSON): keep a copy outside openfr."""
    app, me = signed_in()
    emit(app.audit.head(me))


@audit_app.command("list")
@guarded
def list_(
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only actions starting with this, e.g. 'deployment'.")] = None,
    resource: Annotated[str | None, typer.Option(help="Only this resource, e.g. 'gallery:custody'.")] = None,
    since: Annotated[str | None, typer.Option(help="From this UTC time (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this UTC time (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=5000, help="At most this many.")] = 500,
) -> None:
    """Matching events, oldest first, one JSON line each (`openfr audit export` for all, recorded)."""
    app, me = signed_in()
    events = app.audit.events(me, actor=actor, action=action, resource=resource, since=since, until=until, limit=limit)
    for event in events:
        emit(event)


@audit_app.command("export")
@guarded
def export(
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only actions starting with this.")] = None,
    resource: Annotated[str | None, typer.Option(help="Only this resource.")] = None,
    since: Annotated[str | None, typer.Option(help="From this UTC time (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this UTC time (ISO 8601).")] = None,
) -> None:
    """Every matching event with its hashes, oldest first, as JSON lines (re-verifiable elsewhere). The
    export itself is recorded in the trail."""
    app, me = signed_in()
    for event in app.audit.export(me, "jsonl", actor=actor, action=action, resource=resource, since=since, until=until):
        emit(event)
