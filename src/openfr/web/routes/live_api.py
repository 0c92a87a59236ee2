"""Deployments, alerts and statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, Field

from openfr.live.lifecycle import DeploymentPlan
from openfr.store.live_tables import CATEGORIES, NOTICES
from openfr.web.deps import AppDep, CurrentUser, Grant, Offset, RowId
from openfr.web.pictures import private_file

router = APIRouter(prefix="/api", tags=["live"])
Text = Annotated[str, Field(max_length=5000)]


@router.get("/deployments")
def list_deployments(app: AppDep, me: CurrentUser) -> list[dict]:
    return [v.summary() for v in app.deployments.list(me)]


@router.get("/deployments/{name}")
def get_deployment(name: str, app: AppDep, me: CurrentUser) -> dict:
    return app.deployments.get(me, name).detail()


class NewDeployment(BaseModel):
    """A deployment plan; every safeguard field is required (see live/lifecycle.py)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    grounds: Text
    categories: list[Literal[CATEGORIES]]  # type: ignore[valid-type]
    source_gallery: Annotated[str, Field(max_length=200)]
    location: Text
    location_rationale: Text
    starts_at: datetime | None = Field(None, description="UTC; default now.")
    ends_at: datetime | None = Field(None, description="UTC; default one shift (eight hours) after the start.")
    cameras: dict[str, str] = Field(description="Camera name -> rtsp/http(s) URL, webcam number or video file name.")
    threshold: float | None = Field(
        None, description="Default and minimum: the live threshold for the watchlist's size (see the model card)."
    )
    consistent_shots: int = Field(1, ge=1, le=10, description="Best shots that must agree before an alert (1-10).")
    two_person: bool = Field(False, description="An alert counts as confirmed only when a second operator agrees.")
    public_notice: dict[Literal[NOTICES], str]  # type: ignore[valid-type]

    def plan(self) -> DeploymentPlan:
        notices = {k: v for k, v in self.public_notice.items() if v.strip()}  # an empty field is no notice
        return DeploymentPlan(**{**self.model_dump(), "public_notice": notices})


@router.post("/deployments", status_code=201)
def create_deployment(body: NewDeployment, app: AppDep, me: CurrentUser) -> dict:
    return app.deployments.plan(me, body.plan()).summary()


class Authorisation(BaseModel):
    note: Text = ""
    checklist: dict[str, bool] = Field(
        default_factory=dict,
        description="Every item of the authorisation checklist answered true (the keys are listed by GET "
        "/api/deployments/{name}/preview); without them nothing is authorised (400).",
    )


@router.get("/deployments/{name}/preview")
def preview(name: str, app: AppDep, me: CurrentUser) -> dict:
    """For a plan awaiting authorisation: the watchlist it would snapshot by category, the threshold that would
    apply with its expected false alerts, the cameras' sources (no credentials) and the checklist."""
    return app.deployments.preview(me, name)


@router.get("/deployments/{name}/watchlist")
def watchlist_faces(
    name: str, app: AppDep, me: CurrentUser, offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 24,
) -> dict:  # fmt: skip
    """A page of the people the plan would put on its watchlist, for the officer who may authorise it
    (recorded); each image is at .../watchlist/{image_id}."""
    return app.deployments.watchlist_faces(me, name, offset=offset, limit=limit)


@router.get("/deployments/{name}/watchlist/{image_id}")
def watchlist_face(name: str, image_id: RowId, app: AppDep, me: CurrentUser, grant: Grant = None) -> FileResponse:
    """One image of someone on the plan's watchlist, never cached; each look is recorded."""
    path = app.deployments.watchlist_face(me, name, image_id, grant=grant)
    return private_file(path)


@router.post("/deployments/{name}/authorise")
def authorise(name: str, body: Authorisation, app: AppDep, me: CurrentUser) -> dict:
    return app.deployments.authorise(me, name, body.note, body.checklist).detail()


@router.post("/deployments/{name}/start")
def start(name: str, app: AppDep, me: CurrentUser) -> dict:
    """Go live and run the cameras inside the server; alerts reach the console as they are stored. A
    deployment that is running already stays as it is (`started` is then false)."""
    done = app.deployments.start(me, name)
    return {"name": name, "running": True, "started": done.started}


@router.post("/deployments/{name}/stop")
def stop(name: str, app: AppDep, me: CurrentUser) -> dict:
    app.deployments.stop(me, name)
    return {"name": name, "running": False}


class Closing(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=5000)]


@router.post("/deployments/{name}/close")
def close(name: str, body: Closing, app: AppDep, me: CurrentUser) -> dict:
    """End the deployment now (stopping its cameras); its watchlist snapshot is then erased on schedule."""
    return app.deployments.close(me, name, body.reason).summary()


@router.get("/deployments/{name}/stats")
def stats(name: str, app: AppDep, me: CurrentUser) -> dict:
    """Stored counters plus those of a run in progress in this server."""
    return app.deployments.statistics(me, name)[0]


@router.get("/statistics", response_model=None)
def statistics(
    app: AppDep,
    me: CurrentUser,
    since: Annotated[str | None, Query(alias="from", description="First day (YYYY-MM-DD, UTC).")] = None,
    until: Annotated[str | None, Query(alias="to", description="Last day, included (YYYY-MM-DD, UTC).")] = None,
    format: Literal["json", "csv"] = "json",
) -> dict | PlainTextResponse:
    """The console's statistics page: one row per deployment that went live in the period (every deployment
    without one), and totals. `format=csv` is the page's table, and the export is recorded."""
    if format == "csv":
        export = app.deployments.export_statistics(me, since=since, until=until)
        headers = {"Content-Disposition": f'attachment; filename="{export.filename}"'}
        return PlainTextResponse(export.csv, media_type="text/csv", headers=headers)
    return app.deployments.statistics_report(me, since=since, until=until)


@router.get("/deployments/{name}/alerts")
def list_alerts(name: str, app: AppDep, me: CurrentUser) -> list[dict]:
    return app.alerts.of_deployment(me, name)


class Decision(BaseModel):
    decision: Literal["confirmed", "rejected"]
    note: Text = ""


@router.post("/alerts/{alert_id}/decision")
def decide(alert_id: RowId, body: Decision, app: AppDep, me: CurrentUser) -> dict:
    return app.alerts.decide(me, alert_id, confirmed=body.decision == "confirmed", note=body.note)


class Outcome(BaseModel):
    outcome: str
    note: Text = ""


@router.post("/alerts/{alert_id}/outcome")
def outcome(alert_id: RowId, body: Outcome, app: AppDep, me: CurrentUser) -> dict:
    return app.alerts.outcome(me, alert_id, body.outcome, body.note)


@router.get("/alerts/{alert_id}/images/{which}")
def alert_image(
    alert_id: RowId, which: Literal["crop", "watchlist", "scene"], app: AppDep, me: CurrentUser
) -> FileResponse:
    """The live face crop, the watchlist image it matched, or the scene frame (other faces pixelated); never
    cached."""
    return private_file(app.alerts.image(me, alert_id, which))
