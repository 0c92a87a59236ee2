"""`openfr deployment ...` and `openfr alert ...`: live deployments from the command line, as the signed-in
account (thin adapters over the deployment and alert services)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openfr.cli.common import JsonFlag, emit, err, guarded, out, signed_in
from openfr.errors import BadInputError
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan

deployment_app = typer.Typer(
    help="Live deployments: create, authorise, run, stop, close, statistics.", no_args_is_help=True
)
alert_app = typer.Typer(help="Alerts of live deployments: list, adjudicate, record outcomes.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="Deployment name.")]


def _when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInputError(f"not an ISO date and time: {text!r} (e.g. 2026-11-22T09:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise BadInputError(f"{what} must look like KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


@deployment_app.command("create")
@guarded
def create(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. 'oxford-circus-2026-11-22'.")],
    grounds: Annotated[str, typer.Option(help="Why the deployment is necessary and proportionate.")] = "",
    category: Annotated[list[str] | None, typer.Option(help="Approved watchlist category (repeat).")] = None,
    gallery: Annotated[str, typer.Option(help="Gallery the watchlist snapshot is drawn from.")] = "",
    location: Annotated[str, typer.Option(help="Where the cameras are.")] = "",
    location_reason: Annotated[str, typer.Option(help="Why this location was chosen.")] = "",
    camera: Annotated[
        list[str] | None,
        typer.Option(help="NAME=SOURCE: rtsp:// or http(s):// URL, webcam index, or a file in the video folder."),
    ] = None,
    notice: Annotated[
        list[str] | None, typer.Option(help="KIND=DETAIL of public notice given (signage, leaflets, ...); repeat.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="Start, ISO date-time (UTC unless an offset is given).")] = None,
    end: Annotated[str | None, typer.Option(help="End, ISO date-time (default: one shift after the start).")] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Alert threshold (default and floor: the live threshold for the watchlist).")
    ] = None,
    shots: Annotated[int, typer.Option(min=1, max=10, help="Matching shots of one track before an alert.")] = 1,
    two_person: Annotated[
        bool, typer.Option("--two-person", help="An alert is confirmed only when a second operator agrees.")
    ] = False,
    json: JsonFlag = False,
) -> None:
    """Draft a deployment. Nothing runs until another officer authorises it."""
    app, me = signed_in()
    plan = DeploymentPlan(
        name=name,
        grounds=grounds,
        categories=category or [],
        source_gallery=gallery,
        location=location,
        location_rationale=location_reason,
        cameras=_pairs(camera or [], "--camera"),
        public_notice=_pairs(notice or [], "--notice"),
        starts_at=_when(start) if start else None,
        ends_at=_when(end) if end else None,
        threshold=threshold,
        consistent_shots=shots,
        two_person=two_person,
    )
    view = app.deployments.plan(me, plan)
    emit(view.summary()) if json else err.print(f"deployment {view.name} drafted; another officer must authorise it")


CHECKLIST_HELP = (
    f"Confirm an item of the authorisation checklist; repeat for each of: {', '.join(AUTHORISATION_CHECKLIST)} "
    "(`openfr deployment preview NAME` shows what each says)."
)


@deployment_app.command("preview")
@guarded
def preview(name: NameArg, json: JsonFlag = False) -> None:
    """What authorising a draft now would mean: the watchlist it would snapshot by category, the threshold
    that would apply with its expected false alerts, the cameras' sources and the checklist to confirm."""
    app, me = signed_in()
    p = app.deployments.preview(me, name)
    if json:
        emit(p)
        return
    title = f"{name}: watchlist from gallery {p['source_gallery']} if authorised now"
    table = Table("category", "people", "images", title=title)
    for row in p["by_category"]:
        table.add_row(row["category"], str(row["people"]), str(row["images"]))
    table.add_row("total", str(p["people"]), str(p["images"]))
    out.print(table)
    for row in p["not_on_watchlist"]:
        out.print(f"not on it: {row['people']} in {row['category'] or 'no category'} ({row['why']})")
    rate = p["expected_false_alerts_per_100k"]
    expected = f"about {rate:.1f} false alerts per 100,000 faces" if rate is not None else "not calibrated"
    out.print(f"threshold {p['threshold']:.3f} (planned {p['planned_threshold']:.3f}): {expected}")
    out.print("cameras: " + ", ".join(f"{c['name']} ({c['where']})" for c in p["cameras"]))
    out.print("checklist (openfr deployment authorise --confirm KEY ...):")
    for item in p["checklist"]:
        out.print(f"  {item['key']}: {item['statement']}")


@deployment_app.command("watchlist")
@guarded
def watchlist(
    name: NameArg,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many people.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=100, help="People per page.")] = 24,
) -> None:
    """The people a draft would put on its watchlist, a page at a time (JSON), for the officer who may
    authorise it; the look is recorded in the audit trail."""
    app, me = signed_in()
    emit(app.deployments.watchlist_faces(me, name, offset=offset, limit=limit))


@deployment_app.command("authorise")
@guarded
def authorise(
    name: NameArg,
    note: Annotated[str, typer.Option(help="The authorising officer's reasons.")] = "",
    confirm: Annotated[list[str] | None, typer.Option(help=CHECKLIST_HELP)] = None,
    json: JsonFlag = False,
) -> None:
    """Authorise a draft and freeze its watchlist snapshot from the approved categories. Every item of the
    checklist must be confirmed (`openfr deployment preview NAME` lists them); they are recorded."""
    app, me = signed_in()
    view = app.deployments.authorise(me, name, note, dict.fromkeys(confirm or [], True))
    if json:
        emit(view.detail())
    else:
        err.print(f"deployment {name} authorised; watchlist snapshot of {view.watchlist_size} image(s)")


@deployment_app.command("run")
@guarded
def run(name: NameArg, json: JsonFlag = False) -> None:
    """Go live and run every camera here until the window or the sources end (Ctrl-C, or `openfr deployment
    stop` from anywhere, stops it)."""
    app, me = signed_in()
    stop = threading.Event()
    try:
        result = app.deployments.run(me, name, stop=stop)
    except KeyboardInterrupt:
        stop.set()
        raise
    summary = {
        "cameras": {k: v.as_dict() for k, v in result.counters.items()},
        "health": result.health,
        "errors": result.errors,
        "closed": result.closed,
    }
    if json:
        emit(summary)
    else:
        for label, counters in result.counters.items():
            err.print(f"{label}: {counters.frames} frames, {counters.alerts} alert(s), {counters.fps:.1f} frames/s")


@deployment_app.command("stop")
@guarded
def stop(name: NameArg) -> None:
    """Stop the cameras of a running deployment, wherever they run (a server sees it within seconds)."""
    app, me = signed_in()
    app.deployments.stop(me, name)
    err.print(f"deployment {name}: stop requested")


@deployment_app.command("close")
@guarded
def close(
    name: NameArg,
    reason: Annotated[str, typer.Option(help="Why it is closed (required; recorded).")] = "",
) -> None:
    """End a deployment now; its cameras stop wherever they run, its snapshot is erased on schedule."""
    app, me = signed_in()
    app.deployments.close(me, name, reason)
    err.print(f"deployment {name} closed")


@deployment_app.command("purge")
@guarded
def purge(json: JsonFlag = False) -> None:
    """The same as `openfr purge` (kept for scripts written before it)."""
    purge_all(json)


@guarded
def purge_command(json: JsonFlag = False) -> None:
    """Erase everything past its retention once: expired windows closed, watchlist snapshots, old alerts and
    their crops, old search records (`openfr serve` does this on a schedule). Every erasure is audited."""
    purge_all(json)


def purge_all(json: bool = False) -> None:
    app, me = signed_in()
    result = app.retention.purge(me)
    if json:
        emit(result)
    else:
        err.print(
            f"closed {len(result['closed'])}, erased {len(result['snapshots_erased'])} snapshot(s), "
            f"{result['alerts_deleted']} alert(s), {result['searches_deleted']} search record(s)"
        )


@deployment_app.command("list")
@guarded
def list_(json: JsonFlag = False) -> None:
    app, me = signed_in()
    views = sorted(app.deployments.list(me), key=lambda v: v.id)
    if json:
        emit({"deployments": [v.summary() for v in views]})
        return
    table = Table("name", "state", "location", "window (UTC)", "authorised by", title="Deployments")
    for v in views:
        window = f"{v.starts_at:%Y-%m-%d %H:%M} - {v.ends_at:%Y-%m-%d %H:%M}"
        table.add_row(v.name, v.state + (" (running)" if v.running else ""), v.location, window, v.authorised_by or "")
    out.print(table)


@deployment_app.command("show")
@guarded
def show(name: NameArg) -> None:
    """A deployment's plan, authorisation and state (JSON; camera names only)."""
    app, me = signed_in()
    emit(app.deployments.get(me, name).detail())


@deployment_app.command("stats")
@guarded
def stats(name: NameArg) -> None:
    """Faces seen, alerts, confirmed, false alerts, outcomes and time to alert (JSON)."""
    app, me = signed_in()
    emit(app.deployments.statistics(me, name)[0])


@alert_app.command("list")
@guarded
def alerts(name: NameArg) -> None:
    """Alerts of a deployment, one JSON line each."""
    app, me = signed_in()
    for alert in app.alerts.of_deployment(me, name):
        emit(alert)


@alert_app.command("decide")
@guarded
def decide(
    alert_id: Annotated[int, typer.Argument(help="Alert id.")],
    confirm: Annotated[bool, typer.Option("--confirm/--reject", help="Same person, or a false alert.")],
    note: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Record the operator's decision on an alert."""
    app, me = signed_in()
    emit(app.alerts.decide(me, alert_id, confirmed=confirm, note=note))


@alert_app.command("outcome")
@guarded
def outcome(
    alert_id: Annotated[int, typer.Argument(help="Alert id.")],
    result: Annotated[str, typer.Argument(help="not-engaged, engaged-not-the-person, engaged-arrest, ...")],
    note: Annotated[str, typer.Option(help="What happened.")] = "",
) -> None:
    """Record what happened after a confirmed alert."""
    app, me = signed_in()
    emit(app.alerts.outcome(me, alert_id, result, note))


@alert_app.command("image")
@guarded
def image(
    alert_id: Annotated[int, typer.Argument(help="Alert id.")],
    which: Annotated[
        str, typer.Argument(help="crop (the live face), watchlist (its match) or scene (others pixelated).")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the JPEG.")],
) -> None:
    """Save one of the two images an operator compares (the file is personal data: keep it safe)."""
    app, me = signed_in()
    source = app.alerts.image(me, alert_id, which)
    out_file.write_bytes(source.read_bytes())
    err.print(f"alert {alert_id}: {which} image written to {out_file}")
