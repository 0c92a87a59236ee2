"""`openfr deployment ...` and `openfr alert ...`: live deployments from the command line."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from openfr.cli.common import JsonFlag, emit, err, guarded, out, services
from openfr.errors import BadInputError

deployment_app = typer.Typer(help="Live deployments: create, authorise, run, close, statistics.", no_args_is_help=True)
alert_app = typer.Typer(help="Alerts of live deployments: list, adjudicate, record outcomes.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="Deployment name or id.")]
UserOption = Annotated[str, typer.Option("--user", help="Who is acting (recorded; default: the login name).")]


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
        list[str] | None, typer.Option(help="NAME=SOURCE (file, rtsp:// or http:// URL, webcam index); repeat.")
    ] = None,
    notice: Annotated[
        list[str] | None, typer.Option(help="KIND=DETAIL of public notice given (signage, leaflets, ...); repeat.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="Start, ISO date-time (UTC unless an offset is given).")] = None,
    end: Annotated[str | None, typer.Option(help="End, ISO date-time.")] = None,
    hours: Annotated[float, typer.Option(help="Window length when --end is not given.")] = 8.0,
    threshold: Annotated[float | None, typer.Option(help="Alert threshold (never below the model's).")] = None,
    shots: Annotated[int, typer.Option(min=1, help="Matching shots of one track before an alert.")] = 1,
    user: UserOption = "",
    json: JsonFlag = False,
) -> None:
    """Draft a deployment. Nothing runs until another officer authorises it."""
    from openfr.live import deployments

    svc = services()
    starts = _when(start) if start else datetime.now(UTC)
    ends = _when(end) if end else starts + timedelta(hours=hours)
    plan = deployments.DeploymentPlan(
        name=name,
        grounds=grounds,
        categories=category or [],
        source_gallery=gallery,
        location=location,
        location_rationale=location_reason,
        starts_at=starts,
        ends_at=ends,
        cameras=_pairs(camera or [], "--camera"),
        threshold=threshold if threshold is not None else svc.engine.threshold,
        public_notice=_pairs(notice or [], "--notice"),
        created_by=user or getpass.getuser(),
        consistent_shots=shots,
    )
    with svc.db.transaction() as session:
        deployment = deployments.create(session, plan, min_threshold=svc.engine.threshold)
        result = {"id": deployment.id, "name": deployment.name, "state": deployment.state}
    emit(result) if json else err.print(f"deployment {name} drafted (id {result['id']}); it needs authorising")


@deployment_app.command("authorise")
@guarded
def authorise(
    name: NameArg,
    note: Annotated[str, typer.Option(help="The authorising officer's reasons.")] = "",
    user: UserOption = "",
    json: JsonFlag = False,
) -> None:
    """Authorise a draft and freeze its watchlist snapshot from the approved categories."""
    from openfr.live import deployments

    svc = services()
    with svc.db.transaction() as session:
        deployment = deployments.get(session, name)
        entries = deployments.authorise(
            session, svc.home, deployment, user or getpass.getuser(), note, svc.engine.space
        )
        result = {"name": deployment.name, "state": deployment.state, "watchlist_entries": entries}
    emit(result) if json else err.print(f"deployment {name} authorised; watchlist snapshot of {entries} image(s)")


@deployment_app.command("run")
@guarded
def run(name: NameArg, json: JsonFlag = False) -> None:
    """Go live and run every camera until the window ends or the sources end (Ctrl-C stops)."""
    import threading

    from openfr.live.runner import run_deployment

    svc = services()
    stop = threading.Event()
    try:
        result = run_deployment(svc, name, stop=stop)
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


@deployment_app.command("close")
@guarded
def close(
    name: NameArg,
    reason: Annotated[str, typer.Option(help="Why it is closed.")] = "closed by operator",
    user: UserOption = "",
) -> None:
    from openfr.live import deployments

    svc = services()
    with svc.db.transaction() as session:
        deployments.close(deployments.get(session, name), reason, actor=user or getpass.getuser())
    err.print(f"deployment {name} closed")


@deployment_app.command("purge")
@guarded
def purge(json: JsonFlag = False) -> None:
    """Close deployments whose window has ended and erase snapshots past their retention."""
    from openfr.live import deployments

    svc = services()
    retention = timedelta(hours=svc.settings.live.snapshot_retention_hours)
    with svc.db.transaction() as session:
        closed = deployments.close_expired(session)
        erased = deployments.purge_snapshots(session, svc.home, retention)
    result = {"closed": closed, "snapshots_erased": erased}
    emit(result) if json else err.print(f"closed {len(closed)}, erased {len(erased)} snapshot(s)")


@deployment_app.command("list")
@guarded
def list_(json: JsonFlag = False) -> None:
    from sqlalchemy import select

    from openfr.store import Deployment

    svc = services()
    with svc.db.transaction() as session:
        rows = [
            {
                "id": d.id,
                "name": d.name,
                "state": d.state,
                "location": d.location,
                "starts_at": d.starts_at.isoformat(),
                "ends_at": d.ends_at.isoformat(),
                "authorised_by": d.authorised_by,
            }
            for d in session.scalars(select(Deployment).order_by(Deployment.id))
        ]
    if json:
        emit({"deployments": rows})
        return
    table = Table(title="Deployments")
    for column in ("id", "name", "state", "location", "window (UTC)", "authorised by"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["name"],
            r["state"],
            r["location"],
            f"{r['starts_at'][:16]} - {r['ends_at'][:16]}",
            r["authorised_by"] or "",
        )
    out.print(table)


@deployment_app.command("stats")
@guarded
def stats(name: NameArg) -> None:
    """Faces seen, alerts, confirmed, false alerts, outcomes and time to alert (JSON)."""
    from openfr.live import deployments
    from openfr.live.alerts import statistics

    svc = services()
    with svc.db.transaction() as session:
        emit(statistics(session, deployments.get(session, name)))


@alert_app.command("list")
@guarded
def alerts(name: NameArg) -> None:
    """Alerts of a deployment, one JSON line each."""
    from sqlalchemy import select

    from openfr.live import deployments
    from openfr.live.alerts import alert_summary
    from openfr.store import Alert

    svc = services()
    with svc.db.transaction() as session:
        deployment = deployments.get(session, name)
        for alert in session.scalars(select(Alert).where(Alert.deployment_id == deployment.id).order_by(Alert.id)):
            emit(alert_summary(alert))


@alert_app.command("decide")
@guarded
def decide(
    alert_id: Annotated[int, typer.Argument(help="Alert id.")],
    confirm: Annotated[bool, typer.Option("--confirm/--reject", help="Same person, or a false alert.")],
    note: Annotated[str, typer.Option(help="Why.")] = "",
    user: UserOption = "",
) -> None:
    """Record the operator's decision on an alert."""
    from openfr.live.alerts import adjudicate, alert_summary

    svc = services()
    with svc.db.transaction() as session:
        emit(alert_summary(adjudicate(session, alert_id, confirmed=confirm, user=user or getpass.getuser(), note=note)))


@alert_app.command("outcome")
@guarded
def outcome(
    alert_id: Annotated[int, typer.Argument(help="Alert id.")],
    result: Annotated[str, typer.Argument(help="not-engaged, engaged-not-the-person, engaged-arrest, ...")],
    note: Annotated[str, typer.Option(help="What happened.")] = "",
    user: UserOption = "",
) -> None:
    """Record what happened after a confirmed alert."""
    from openfr.live.alerts import alert_summary, record_outcome

    svc = services()
    with svc.db.transaction() as session:
        emit(
            alert_summary(record_outcome(session, alert_id, outcome=result, user=user or getpass.getuser(), note=note))
        )
