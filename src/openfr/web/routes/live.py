"""Deployments, alerts and statistics."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from openfr.errors import BadInputError
from openfr.governance.permissions import Permission
from openfr.live import alerts, deployments
from openfr.store import Alert, Deployment
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


@router.get("/deployments/{name}/stats", dependencies=[Depends(Require(Permission.STATS_READ))])
def stats(name: str, session: Db) -> dict:
    return alerts.statistics(session, _deployment(session, name))


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
