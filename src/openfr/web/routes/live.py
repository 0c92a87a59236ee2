"""Deployments, alerts and statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from openfr.errors import BadInputError
from openfr.governance.permissions import Permission
from openfr.live import alerts, deployments
from openfr.live.setup import web_camera_source
from openfr.store import Alert, Deployment
from openfr.store.live import CATEGORIES, NOTICES
from openfr.web.deps import AuthUser, Db, Require, ServicesDep

router = APIRouter(prefix="/api", tags=["live"])


def _deployment(session, name: str) -> Deployment:
    try:
        return deployments.get(session, name)
    except BadInputError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


def _summary(d: Deployment) -> dict:
    return {
        "id": d.id,
        "name": d.name,
        "state": d.state,
        "location": d.location,
        "categories": d.categories,
        "starts_at": d.starts_at.isoformat(),
        "ends_at": d.ends_at.isoformat(),
        "threshold": d.threshold,
        "authorised_by": d.authorised_by,
        "cameras": [c["name"] for c in d.cameras],  # sources can hold credentials: names only
    }


@router.get("/deployments", dependencies=[Depends(Require(Permission.DEPLOYMENT_READ))])
def list_deployments(session: Db) -> list[dict]:
    return [_summary(d) for d in session.scalars(select(Deployment).order_by(Deployment.id))]


@router.get("/deployments/{name}", dependencies=[Depends(Require(Permission.DEPLOYMENT_READ))])
def get_deployment(name: str, session: Db) -> dict:
    d = _deployment(session, name)
    return {
        **_summary(d),
        "grounds": d.grounds,
        "location_rationale": d.location_rationale,
        "public_notice": d.public_notice,
        "created_by": d.created_by,
    }


class NewDeployment(BaseModel):
    """A deployment plan; every safeguard field is required (see live/deployments.py)."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    grounds: Annotated[str, Field(max_length=5000)]
    categories: list[Literal[CATEGORIES]]  # type: ignore[valid-type]
    source_gallery: Annotated[str, Field(max_length=200)]
    location: Annotated[str, Field(max_length=2000)]
    location_rationale: Annotated[str, Field(max_length=5000)]
    starts_at: datetime | None = Field(None, description="UTC; default now.")
    ends_at: datetime | None = Field(None, description="UTC; default eight hours after the start.")
    cameras: dict[str, str] = Field(description="Camera name -> rtsp/http(s) URL, webcam number or video file name.")
    threshold: float | None = Field(None, description="Default and minimum: the model's calibrated threshold.")
    consistent_shots: Annotated[int, Field(ge=1, le=10)] = 1
    public_notice: dict[Literal[NOTICES], str]  # type: ignore[valid-type]


@router.post("/deployments", status_code=201)
def create_deployment(
    body: NewDeployment,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Require(Permission.DEPLOYMENT_CREATE))],
) -> dict:
    try:
        deployment = create_from_form(services, session, body, user.username)
    except BadInputError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return _summary(deployment)


def create_from_form(services, session, body: NewDeployment, actor: str) -> Deployment:
    """Shared by the API and the console form."""
    starts = body.starts_at or datetime.now(UTC)
    starts = starts if starts.tzinfo else starts.replace(tzinfo=UTC)
    ends = body.ends_at or starts + timedelta(hours=8)
    ends = ends if ends.tzinfo else ends.replace(tzinfo=UTC)
    calibrated = services.engine.threshold
    plan = deployments.DeploymentPlan(
        name=body.name,
        grounds=body.grounds,
        categories=list(body.categories),
        source_gallery=body.source_gallery,
        location=body.location,
        location_rationale=body.location_rationale,
        starts_at=starts,
        ends_at=ends,
        cameras={
            n.strip(): web_camera_source(services.settings, services.home, src) for n, src in body.cameras.items()
        },
        threshold=body.threshold if body.threshold is not None else calibrated,
        public_notice={k: v for k, v in body.public_notice.items() if v.strip()},
        created_by=actor,
        consistent_shots=body.consistent_shots,
    )
    return deployments.create(session, plan, min_threshold=calibrated)


class Authorisation(BaseModel):
    note: Annotated[str, Field(max_length=5000)] = ""


@router.post("/deployments/{name}/authorise")
def authorise(
    name: str,
    body: Authorisation,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Require(Permission.DEPLOYMENT_AUTHORISE))],
) -> dict:
    d = _deployment(session, name)
    try:
        entries = deployments.authorise(session, services.home, d, user.username, body.note, services.engine.space)
    except BadInputError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return {**_summary(d), "watchlist_entries": entries}


@router.post("/deployments/{name}/start")
def start(
    name: str, services: ServicesDep, user: Annotated[AuthUser, Depends(Require(Permission.DEPLOYMENT_RUN))]
) -> dict:
    """Go live and run the cameras inside the server; alerts reach the console as they are stored."""
    try:
        services.live.start(name, user.username)
    except BadInputError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return {"name": name, "running": True}


@router.post("/deployments/{name}/stop")
def stop(
    name: str, services: ServicesDep, user: Annotated[AuthUser, Depends(Require(Permission.DEPLOYMENT_RUN))]
) -> dict:
    try:
        services.live.stop(name, user.username)
    except BadInputError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return {"name": name, "running": False}


class Closing(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=5000)]


@router.post("/deployments/{name}/close")
def close(
    name: str,
    body: Closing,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Require(Permission.DEPLOYMENT_CLOSE))],
) -> dict:
    """End the deployment now (stopping its cameras); its watchlist snapshot is then erased on schedule."""
    return _summary(close_now(services, session, name, body.reason, user.username))


def close_now(services, session, name: str, reason: str, actor: str) -> Deployment:
    d = _deployment(session, name)
    if services.live.is_running(d.id):
        services.live.stop(str(d.id), actor)
    deployments.close(d, reason, actor=actor)
    return d


@router.get("/deployments/{name}/stats", dependencies=[Depends(Require(Permission.STATS_READ))])
def stats(name: str, session: Db, services: ServicesDep) -> dict:
    """Stored counters plus those of a run in progress in this server."""
    d = _deployment(session, name)
    return alerts.statistics(session, d, services.live.live_counters(d.id))


@router.get("/deployments/{name}/alerts", dependencies=[Depends(Require(Permission.ALERT_READ))])
def list_alerts(name: str, session: Db) -> list[dict]:
    d = _deployment(session, name)
    query = select(Alert).where(Alert.deployment_id == d.id).order_by(Alert.id)
    return [alerts.alert_summary(a) for a in session.scalars(query)]


class Decision(BaseModel):
    decision: Literal["confirmed", "rejected"]
    note: Annotated[str, Field(max_length=5000)] = ""


@router.post("/alerts/{alert_id}/decision")
def decide(
    alert_id: int,
    body: Decision,
    session: Db,
    user: Annotated[AuthUser, Depends(Require(Permission.ALERT_ADJUDICATE))],
) -> dict:
    try:
        alert = alerts.adjudicate(
            session, alert_id, confirmed=body.decision == "confirmed", user=user.username, note=body.note
        )
    except BadInputError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return alerts.alert_summary(alert)


class Outcome(BaseModel):
    outcome: str
    note: Annotated[str, Field(max_length=5000)] = ""


@router.post("/alerts/{alert_id}/outcome")
def outcome(
    alert_id: int,
    body: Outcome,
    session: Db,
    user: Annotated[AuthUser, Depends(Require(Permission.ALERT_ADJUDICATE))],
) -> dict:
    try:
        alert = alerts.record_outcome(session, alert_id, outcome=body.outcome, user=user.username, note=body.note)
    except BadInputError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return alerts.alert_summary(alert)
