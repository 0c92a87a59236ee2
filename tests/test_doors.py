"""Every use case x every role x every door (command line, JSON API, console): the same answer.

The rules live in the services; the doors only adapt. So for each use case and role, the three doors must
agree: allowed (and then the action happens, with exactly the audit events it should write) or refused for
the role (and then nothing changes: no audit event, no row). A command line that is not signed in changes
nothing either. A last check makes sure no API route or console page escapes this table.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from actors import (
    PASSWORD,
    SECOND_ADMIN,
    TEMPORARY,
    api_token,
    console_client,
    make_app,
    sign_in,
    staff,
    username,
)
from openfr.cli import app as cli_app
from openfr.governance.permissions import MATRIX, Permission, Role
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan
from openfr.services.galleries import EnrolFields
from openfr.services.refusals import REFUSED
from openfr.store import AuditEvent, Deployment, SearchRecord, SourceImage, Subject, User
from openfr.web.app import create_app

P = Permission
DOORS = ("cli", "api", "console")
RTSP = "rtsp://cam.example/1"


@dataclass
class Door:
    """How one door is called for a use case: a command line (args), or an HTTP route (method, path
    template) with the request's path values and body. `tag` names the caller, for things made per call."""

    cli: Callable[[World, str], list[str]] | None = None
    route: tuple[str, str] | None = None  # (method, path template), for the HTTP doors
    request: Callable[[World, str], tuple[dict, dict]] | None = None  # -> (path values, httpx kwargs)


@dataclass
class UseCase:
    name: str
    permission: Permission | tuple[Permission, ...]  # a tuple: any one of them will do
    doors: dict[str, Door]
    allowed: str = "ok"  # what a role holding the permission gets: ok, or refused (409/404: state, not role)
    events: int = 0  # audit events one allowed call writes
    page_views: int = 0  # more at the console, whose answer page shows a gallery's subjects (a recorded view)
    refusals: int = 0  # refusal events a "refused" answer records (a safeguard said no; 404s record nothing)

    def held_by(self, role: Role) -> bool:
        wanted = self.permission if isinstance(self.permission, tuple) else (self.permission,)
        return any(p in MATRIX[role] for p in wanted)


@dataclass
class World:
    home: Path
    app: object
    web: TestClient
    tokens: dict[Role, str]
    consoles: dict[Role, TestClient]
    photo: Path
    folders: dict[str, Path] = field(default_factory=dict)
    searches: dict[str, int] = field(default_factory=dict)  # an OIFR search of each caller's own, by tag


def _plan(name: str) -> dict:
    return {
        "name": name,
        "grounds": "doors test",
        "categories": ["wanted-serious-offence"],
        "source_gallery": "custody",
        "location": "test square",
        "location_rationale": "test",
        "cameras": {"cam": RTSP},
        "public_notice": {"signage": "signs"},
    }


def _console_plan(name: str) -> dict:
    plan = _plan(name)
    return {
        **{k: plan[k] for k in ("name", "grounds", "source_gallery", "location", "location_rationale")},
        "categories": "wanted-serious-offence",
        "camera_name_0": "cam",
        "camera_source_0": RTSP,
        "notice_signage": "signs",
    }


def _folder(w: World, tag: str) -> str:
    folder = w.home.parent / "enrol" / tag
    (folder / f"enr-{tag}").mkdir(parents=True, exist_ok=True)
    shutil.copy(w.photo, folder / f"enr-{tag}" / "1.jpg")
    return str(folder)


def _photo(w: World) -> dict:
    return {"files": {"image": ("probe.jpg", w.photo.read_bytes(), "image/jpeg")}}


CONFIRMED = dict.fromkeys(AUTHORISATION_CHECKLIST, True)  # the whole checklist, answered yes
CONFIRM_ARGS = [arg for key in AUTHORISATION_CHECKLIST for arg in ("--confirm", key)]


def _image_of(w: World, subject: str) -> int:
    with w.app.runtime.db.read() as session:
        return session.scalar(sa.select(SourceImage.id).join(Subject).where(Subject.external_id == subject))


NO_PATH: dict = {}
MAY = {"from": "2026-05-01", "to": "2026-05-31"}  # a period for the statistics, "to" included
USE_CASES = [
    UseCase("galleries", P.GALLERY_READ, {
        "cli": Door(lambda w, t: ["gallery", "list", "--json"]),
        "api": Door(route=("GET", "/api/galleries")),
        "console": Door(route=("GET", "/galleries")),
    }),
    UseCase("subjects", P.GALLERY_READ, events=1, doors={
        "cli": Door(lambda w, t: ["gallery", "subjects", "custody"]),
        "api": Door(route=("GET", "/api/galleries/{name}/subjects"), request=lambda w, t: ({"name": "custody"}, {})),
        "console": Door(route=("GET", "/galleries/{name}"), request=lambda w, t: ({"name": "custody"}, {})),
    }),
    UseCase("enrol", P.GALLERY_ENROL, events=1, page_views=1, doors={
        "cli": Door(lambda w, t: ["gallery", "import", "custody", _folder(w, t)]),
        "api": Door(route=("POST", "/api/galleries/{name}/enrol"), request=lambda w, t: (
            {"name": "custody"}, {"data": {"subject": f"enr-{t}", "source": "doors test"}, **_photo(w)})),
        "console": Door(route=("POST", "/enrol"), request=lambda w, t: (
            NO_PATH, {"data": {"gallery": "custody", "subject": f"enr-{t}", "source": "doors test"}, **_photo(w)})),
    }),
    UseCase("enrol into a gallery that does not exist (404: create it first)", P.GALLERY_ENROL, allowed="refused",
            doors={
        "cli": Door(lambda w, t: ["gallery", "import", "custdoy", _folder(w, t)]),
        "api": Door(route=("POST", "/api/galleries/{name}/enrol"), request=lambda w, t: (
            {"name": "custdoy"}, {"data": {"subject": f"typo-{t}", "source": "doors test"}, **_photo(w)})),
        "console": Door(route=("POST", "/enrol"), request=lambda w, t: (
            NO_PATH, {"data": {"gallery": "custdoy", "subject": f"typo-{t}", "source": "doors test"}, **_photo(w)})),
    }),
    UseCase("create a gallery", P.GALLERY_ENROL, events=1, doors={
        "cli": Door(lambda w, t: ["gallery", "create", f"new-{t}", "--purpose", "doors test"]),
        "api": Door(route=("POST", "/api/galleries"), request=lambda w, t: (
            NO_PATH, {"json": {"name": f"new-{t}", "purpose": "doors test"}})),
        "console": Door(route=("POST", "/galleries"), request=lambda w, t: (
            NO_PATH, {"data": {"name": f"new-{t}", "purpose": "doors test"}})),
    }),
    UseCase("delete a subject", P.GALLERY_DELETE, events=1, page_views=1, doors={
        "cli": Door(lambda w, t: [
            "gallery", "delete-subject", "custody", f"del-{t}", "--reason", "doors test", "--yes"]),
        "api": Door(route=("DELETE", "/api/galleries/{name}/subjects/{subject}"), request=lambda w, t: (
            {"name": "custody", "subject": f"del-{t}"}, {"params": {"reason": "doors test"}})),
        "console": Door(route=("POST", "/galleries/{name}/subjects/{subject}/delete"), request=lambda w, t: (
            {"name": "custody", "subject": f"del-{t}"}, {"data": {"reason": "doors test", "confirm": "yes"}})),
    }),
    UseCase("ask to confirm deleting a subject (the console's first step)", P.GALLERY_DELETE, doors={
        "console": Door(route=("POST", "/galleries/{name}/subjects/{subject}/delete"), request=lambda w, t: (
            {"name": "custody", "subject": "yao"}, {"data": {"reason": "doors test"}})),
    }),
    UseCase("search", P.SEARCH_RFR, events=1, doors={
        "cli": Door(lambda w, t: ["search", "custody", str(w.photo), "--reason", "doors test"]),
        "api": Door(route=("POST", "/api/search"), request=lambda w, t: (
            NO_PATH, {"data": {"gallery": "custody", "reason": "doors test"}, **_photo(w)})),
        "console": Door(route=("POST", "/search"), request=lambda w, t: (
            NO_PATH, {"data": {"gallery": "custody", "reason": "doors test"}, **_photo(w)})),
    }),
    UseCase("search page", P.SEARCH_RFR, {"console": Door(route=("GET", "/search"))}),
    UseCase("a candidate's image (no such search of yours)", (P.SEARCH_RFR, P.SEARCH_OIFR), allowed="refused", doors={
        "api": Door(route=("GET", "/api/searches/{search_id}/candidates/{rank}/image"), request=lambda w, t: (
            {"search_id": 999999, "rank": 1}, {})),
        "console": Door(route=("GET", "/searches/{search_id}/candidates/{rank}/image.jpg"), request=lambda w, t: (
            {"search_id": 999999, "rank": 1}, {})),
    }),
    # -- issue 16: purpose limitation and operator-initiated searches (the phone page's rows are its own) --
    UseCase("OIFR grounds", P.SEARCH_OIFR, {"api": Door(route=("GET", "/api/oifr/grounds"))}),
    UseCase("OIFR search (the one gallery approved for OIFR)", P.SEARCH_OIFR, events=1, doors={
        "cli": Door(lambda w, t: [
            "oifr", "search", str(w.photo), "--grounds", "refuses", "--details", "doors test", "--location", "here"]),
        "api": Door(route=("POST", "/api/oifr/search"), request=lambda w, t: (
            NO_PATH, {"data": {"grounds": "refuses", "details": "doors test", "location": "here"}, **_photo(w)})),
    }),
    UseCase("OIFR search of a gallery not approved for OIFR (409)", P.SEARCH_OIFR, allowed="refused", refusals=1,
            doors={
        "cli": Door(lambda w, t: [
            "oifr", "search", str(w.photo), "--grounds", "injury", "--details", "doors test", "--gallery", "cases"]),
        "api": Door(route=("POST", "/api/oifr/search"), request=lambda w, t: (
            NO_PATH, {"data": {"grounds": "injury", "details": "doors test", "gallery": "cases"}, **_photo(w)})),
    }),
    UseCase("OIFR mode through the general search (refused: OIFR has its own door)", P.SEARCH_RFR,
            allowed="refused", refusals=1, doors={
        "api": Door(route=("POST", "/api/search"), request=lambda w, t: (
            NO_PATH, {"data": {"gallery": "custody", "reason": "doors test", "mode": "OIFR"}, **_photo(w)})),
    }),
    UseCase("retrospective search of a gallery that is a live source only (409)", P.SEARCH_RFR, allowed="refused",
            refusals=1, doors={
        "cli": Door(lambda w, t: ["search", "live-only", str(w.photo), "--reason", "doors test"]),
        "api": Door(route=("POST", "/api/search"), request=lambda w, t: (
            NO_PATH, {"data": {"gallery": "live-only", "reason": "doors test"}, **_photo(w)})),
        "console": Door(route=("POST", "/search"), request=lambda w, t: (
            NO_PATH, {"data": {"gallery": "live-only", "reason": "doors test"}, **_photo(w)})),
    }),
    UseCase("record an OIFR search's result", P.SEARCH_OIFR, events=1, doors={
        "cli": Door(lambda w, t: ["oifr", "result", str(w.searches.get(t, 999999)), "inconclusive", "--note", "n"]),
        "api": Door(route=("POST", "/api/oifr/searches/{search_id}/result"), request=lambda w, t: (
            {"search_id": w.searches.get(t, 999999)}, {"json": {"result": "not-the-person", "note": "n"}})),
    }),
    UseCase("create a gallery approved as a live source", P.GALLERY_MANAGE, events=1, doors={
        "cli": Door(lambda w, t: [
            "gallery", "create", f"live-{t}", "--purpose", "doors test", "--use", "live", "--use", "rfr"]),
        "api": Door(route=("POST", "/api/galleries"), request=lambda w, t: (
            NO_PATH, {"json": {"name": f"live-{t}", "purpose": "doors test", "uses": ["live", "rfr"]}})),
        "console": Door(route=("POST", "/galleries"), request=lambda w, t: (
            NO_PATH, {"data": {"name": f"live-{t}", "purpose": "doors test", "uses": ["live", "rfr"]}})),
    }),
    UseCase("change a gallery's uses", P.GALLERY_MANAGE, events=1, doors={
        "cli": Door(lambda w, t: ["gallery", "uses", f"uses-{t}", "--use", "rfr", "--use", "live", "--reason", "DPIA"]),
        "api": Door(route=("POST", "/api/galleries/{name}/uses"), request=lambda w, t: (
            {"name": f"uses-{t}"}, {"json": {"uses": ["rfr", "live"], "reason": "DPIA"}})),
        "console": Door(route=("POST", "/galleries/{name}/uses"), request=lambda w, t: (
            {"name": f"uses-{t}"}, {"data": {"uses": ["rfr", "live"], "reason": "DPIA"}})),
    }),
    UseCase("plan on a gallery not approved as a live source (409)", P.DEPLOYMENT_CREATE, allowed="refused",
            refusals=1, doors={
        "cli": Door(lambda w, t: [
            "deployment", "create", f"cases-{t}", "--grounds", "doors test", "--category", "wanted-serious-offence",
            "--gallery", "cases", "--location", "test square", "--location-reason", "test",
            "--camera", f"cam={RTSP}", "--notice", "signage=signs"]),
        "api": Door(route=("POST", "/api/deployments"), request=lambda w, t: (
            NO_PATH, {"json": {**_plan(f"cases-{t}"), "source_gallery": "cases"}})),
        "console": Door(route=("POST", "/deployments"), request=lambda w, t: (
            NO_PATH, {"data": {**_console_plan(f"cases-{t}"), "source_gallery": "cases"}})),
    }),
    # -- issue 16: the officer's phone page (web/console/oifr_pages.py) --
    UseCase("the officer's phone page (OIFR)", P.SEARCH_OIFR, {"console": Door(route=("GET", "/oifr"))}),
    UseCase("OIFR search from the phone page", P.SEARCH_OIFR, events=1, doors={
        "console": Door(route=("POST", "/oifr"), request=lambda w, t: (
            NO_PATH, {"data": {"grounds": "refuses", "details": "doors test", "location": "here"}, **_photo(w)})),
    }),
    UseCase("record an OIFR search's result from the phone page", P.SEARCH_OIFR, events=1, doors={
        "console": Door(route=("POST", "/oifr/searches/{search_id}/result"), request=lambda w, t: (
            {"search_id": w.searches.get(t, 999999)}, {"data": {"result": "inconclusive", "note": "n"}})),
    }),
    UseCase("a subject's thumbnail", P.GALLERY_READ, events=1, doors={
        "console": Door(route=("GET", "/galleries/{name}/subjects/{subject}/image.jpg"), request=lambda w, t: (
            {"name": "custody", "subject": "yao"}, {})),
    }),
    UseCase("a page of a gallery's subjects", P.GALLERY_READ, events=1, doors={
        "console": Door(route=("GET", "/galleries/{name}"), request=lambda w, t: (
            {"name": "custody"}, {"params": {"page": 1, "q": "yao"}})),
    }),
    UseCase("a page that does not exist (400)", P.GALLERY_READ, allowed="refused", doors={
        "console": Door(route=("GET", "/galleries/{name}"), request=lambda w, t: (
            {"name": "custody"}, {"params": {"page": 99}})),
    }),
    UseCase("model cards", P.MODELS_READ, {"api": Door(route=("GET", "/api/models"))}),
    UseCase("deployments", P.DEPLOYMENT_READ, {
        "cli": Door(lambda w, t: ["deployment", "list", "--json"]),
        "api": Door(route=("GET", "/api/deployments")),
        "console": Door(route=("GET", "/deployments")),
    }),
    UseCase("a deployment", P.DEPLOYMENT_READ, {
        "cli": Door(lambda w, t: ["deployment", "show", "draft-x"]),
        "api": Door(route=("GET", "/api/deployments/{name}"), request=lambda w, t: ({"name": "draft-x"}, {})),
        "console": Door(route=("GET", "/deployments/{name}"), request=lambda w, t: ({"name": "draft-x"}, {})),
    }),
    UseCase("plan", P.DEPLOYMENT_CREATE, events=1, doors={
        "cli": Door(lambda w, t: [
            "deployment", "create", f"plan-{t}", "--grounds", "doors test", "--category", "wanted-serious-offence",
            "--gallery", "custody", "--location", "test square", "--location-reason", "test",
            "--camera", f"cam={RTSP}", "--notice", "signage=signs"]),
        "api": Door(route=("POST", "/api/deployments"), request=lambda w, t: (NO_PATH, {"json": _plan(f"plan-{t}")})),
        "console": Door(route=("POST", "/deployments"), request=lambda w, t: (
            NO_PATH, {"data": _console_plan(f"plan-{t}")})),
    }),
    UseCase("planning form", P.DEPLOYMENT_CREATE, {"console": Door(route=("GET", "/deployments/new"))}),
    UseCase("preview a plan", P.DEPLOYMENT_READ, {
        "cli": Door(lambda w, t: ["deployment", "preview", "draft-x", "--json"]),
        "api": Door(route=("GET", "/api/deployments/{name}/preview"), request=lambda w, t: ({"name": "draft-x"}, {})),
        "console": Door(route=("GET", "/deployments/{name}"), request=lambda w, t: ({"name": "draft-x"}, {})),
    }),
    UseCase("faces of a plan's watchlist", P.DEPLOYMENT_AUTHORISE, events=1, doors={
        "cli": Door(lambda w, t: ["deployment", "watchlist", f"auth-{t}"]),
        "api": Door(route=("GET", "/api/deployments/{name}/watchlist"), request=lambda w, t: (
            {"name": f"auth-{t}"}, {})),
        "console": Door(route=("GET", "/deployments/{name}/watchlist"), request=lambda w, t: (
            {"name": f"auth-{t}"}, {})),
    }),
    UseCase("a face on a plan's watchlist", P.DEPLOYMENT_AUTHORISE, events=1, doors={
        "api": Door(route=("GET", "/api/deployments/{name}/watchlist/{image_id}"), request=lambda w, t: (
            {"name": f"auth-{t}", "image_id": _image_of(w, "yao")}, {})),
        "console": Door(route=("GET", "/deployments/{name}/watchlist/{image_id}"), request=lambda w, t: (
            {"name": f"auth-{t}", "image_id": _image_of(w, "yao")}, {})),
    }),
    UseCase("authorise", P.DEPLOYMENT_AUTHORISE, events=1, doors={
        "cli": Door(lambda w, t: ["deployment", "authorise", f"auth-{t}", "--note", "ok", *CONFIRM_ARGS]),
        "api": Door(route=("POST", "/api/deployments/{name}/authorise"), request=lambda w, t: (
            {"name": f"auth-{t}"}, {"json": {"note": "ok", "checklist": CONFIRMED}})),
        "console": Door(route=("POST", "/deployments/{name}/authorise"), request=lambda w, t: (
            {"name": f"auth-{t}"}, {"data": {"note": "ok", "checklist": list(AUTHORISATION_CHECKLIST)}})),
    }),
    UseCase("start (a draft: refused for its state)", P.DEPLOYMENT_RUN, allowed="refused", doors={
        "cli": Door(lambda w, t: ["deployment", "run", "draft-x"]),
        "api": Door(route=("POST", "/api/deployments/{name}/start"), request=lambda w, t: ({"name": "draft-x"}, {})),
        "console": Door(route=("POST", "/deployments/{name}/start"), request=lambda w, t: ({"name": "draft-x"}, {})),
    }),
    UseCase("stop (not running: refused)", P.DEPLOYMENT_RUN, allowed="refused", doors={
        "cli": Door(lambda w, t: ["deployment", "stop", "draft-x"]),
        "api": Door(route=("POST", "/api/deployments/{name}/stop"), request=lambda w, t: ({"name": "draft-x"}, {})),
        "console": Door(route=("POST", "/deployments/{name}/stop"), request=lambda w, t: ({"name": "draft-x"}, {})),
    }),
    UseCase("close", P.DEPLOYMENT_CLOSE, events=1, doors={
        "cli": Door(lambda w, t: ["deployment", "close", f"close-{t}", "--reason", "doors test"]),
        "api": Door(route=("POST", "/api/deployments/{name}/close"), request=lambda w, t: (
            {"name": f"close-{t}"}, {"json": {"reason": "doors test"}})),
        "console": Door(route=("POST", "/deployments/{name}/close"), request=lambda w, t: (
            {"name": f"close-{t}"}, {"data": {"reason": "doors test"}})),
    }),
    UseCase("statistics", P.STATS_READ, {
        "cli": Door(lambda w, t: ["deployment", "stats", "draft-x"]),
        "api": Door(route=("GET", "/api/deployments/{name}/stats"), request=lambda w, t: ({"name": "draft-x"}, {})),
        "console": Door(route=("GET", "/statistics")),
    }),
    UseCase("statistics over a period", P.STATS_READ, {
        "api": Door(route=("GET", "/api/statistics"), request=lambda w, t: (NO_PATH, {"params": MAY})),
        "console": Door(route=("GET", "/statistics"), request=lambda w, t: (NO_PATH, {"params": MAY})),
    }),
    UseCase("statistics as CSV (recorded)", P.STATS_READ, events=1, doors={
        "api": Door(route=("GET", "/api/statistics"), request=lambda w, t: (
            NO_PATH, {"params": {**MAY, "format": "csv"}})),
        "console": Door(route=("GET", "/statistics.csv"), request=lambda w, t: (NO_PATH, {"params": MAY})),
    }),
    UseCase("transparency report (recorded)", P.STATS_READ, events=1, doors={
        "cli": Door(lambda w, t: ["report", "transparency", "--format", "json"]),
        "api": Door(route=("GET", "/api/reports/transparency"), request=lambda w, t: (
            NO_PATH, {"params": {"public": True}})),
        "console": Door(route=("GET", "/reports/transparency")),
    }),
    UseCase("transparency report as CSV (recorded)", P.STATS_READ, events=1, doors={
        "cli": Door(lambda w, t: ["report", "transparency", "--format", "csv", "--public"]),
        "api": Door(route=("GET", "/api/reports/transparency"), request=lambda w, t: (
            NO_PATH, {"params": {"format": "csv"}})),
        "console": Door(route=("GET", "/reports/transparency.csv")),
    }),
    UseCase("false-alert monitoring", P.STATS_READ, {
        "cli": Door(lambda w, t: ["report", "false-alerts"]),
        "api": Door(route=("GET", "/api/reports/false-alerts")),
    }),
    UseCase("subject access", P.SUBJECT_ACCESS, events=1, doors={
        "cli": Door(lambda w, t: ["report", "subject-access", "--reason", "DPO-1", "--reference", "nobody"]),
        "api": Door(route=("POST", "/api/subject-access"), request=lambda w, t: (
            NO_PATH, {"data": {"reason": "DPO-1", "reference": "nobody"}})),
        "console": Door(route=("POST", "/subject-access"), request=lambda w, t: (
            NO_PATH, {"data": {"reason": "DPO-1", "reference": "nobody"}})),
    }),
    UseCase("subject access form", P.SUBJECT_ACCESS, {"console": Door(route=("GET", "/subject-access"))}),
    UseCase("confirm a photo match's candidates (not a match of yours)", P.SUBJECT_ACCESS, allowed="refused", doors={
        "cli": Door(lambda w, t: [
            "report", "subject-access", "--reason", "DPO-1", "--ticket", "not-a-ticket", "--confirm", "custody/yao"]),
        "api": Door(route=("POST", "/api/subject-access/confirm"), request=lambda w, t: (
            NO_PATH, {"json": {"reason": "DPO-1", "ticket": "not-a-ticket", "confirmed": ["custody/yao"]}})),
        "console": Door(route=("POST", "/subject-access/confirm"), request=lambda w, t: (
            NO_PATH, {"data": {"reason": "DPO-1", "ticket": "not-a-ticket", "confirmed": "custody/yao"}})),
    }),
    UseCase("a photo match's candidate image (not a match of yours)", P.SUBJECT_ACCESS, allowed="refused", doors={
        "api": Door(route=("GET", "/api/subject-access/candidates/{index}/image"), request=lambda w, t: (
            {"index": 0}, {"params": {"ticket": "not-a-ticket"}})),
        "console": Door(route=("GET", "/subject-access/candidates/{index}/image.jpg"), request=lambda w, t: (
            {"index": 0}, {"params": {"ticket": "not-a-ticket"}})),
    }),
    UseCase("purge past retention", P.RETENTION_RUN, {
        "cli": Door(lambda w, t: ["purge"]),
        "api": Door(route=("POST", "/api/retention/purge")),
        "console": Door(route=("POST", "/retention/purge")),
    }),
    UseCase("alerts", P.ALERT_READ, {
        "cli": Door(lambda w, t: ["alert", "list", "draft-x"]),
        "api": Door(route=("GET", "/api/deployments/{name}/alerts"), request=lambda w, t: ({"name": "draft-x"}, {})),
        "console": Door(route=("GET", "/console")),
    }),
    UseCase("decide (no such alert)", P.ALERT_ADJUDICATE, allowed="refused", doors={
        "cli": Door(lambda w, t: ["alert", "decide", "999999", "--confirm"]),
        "api": Door(route=("POST", "/api/alerts/{alert_id}/decision"), request=lambda w, t: (
            {"alert_id": 999999}, {"json": {"decision": "confirmed"}})),
        "console": Door(route=("POST", "/alerts/{alert_id}/decision"), request=lambda w, t: (
            {"alert_id": 999999}, {"data": {"decision": "confirmed"}})),
    }),
    UseCase("outcome (no such alert)", P.ALERT_ADJUDICATE, allowed="refused", doors={
        "cli": Door(lambda w, t: ["alert", "outcome", "999999", "engaged-arrest"]),
        "api": Door(route=("POST", "/api/alerts/{alert_id}/outcome"), request=lambda w, t: (
            {"alert_id": 999999}, {"json": {"outcome": "engaged-arrest"}})),
        "console": Door(route=("POST", "/alerts/{alert_id}/outcome"), request=lambda w, t: (
            {"alert_id": 999999}, {"data": {"outcome": "engaged-arrest"}})),
    }),
    UseCase("live crop (no such alert)", P.ALERT_READ, allowed="refused", doors={
        "cli": Door(lambda w, t: ["alert", "image", "999999", "crop", "--out", str(w.home.parent / "x.jpg")]),
        "api": Door(route=("GET", "/api/alerts/{alert_id}/images/{which}"), request=lambda w, t: (
            {"alert_id": 999999, "which": "crop"}, {})),
        "console": Door(route=("GET", "/alerts/{alert_id}/crop.jpg"), request=lambda w, t: ({"alert_id": 999999}, {})),
    }),
    UseCase("watchlist image (no such alert)", P.ALERT_READ, allowed="refused", doors={
        "console": Door(route=("GET", "/alerts/{alert_id}/watchlist.jpg"), request=lambda w, t: (
            {"alert_id": 999999}, {})),
    }),
    UseCase("scene frame (no such alert)", P.ALERT_READ, allowed="refused", doors={
        "console": Door(route=("GET", "/alerts/{alert_id}/scene.jpg"), request=lambda w, t: ({"alert_id": 999999}, {})),
    }),
    UseCase("alerts awaiting a decision (header counter)", P.ALERT_ADJUDICATE, {
        "console": Door(route=("GET", "/alerts/pending")),
    }),
    UseCase("deployments running now (console Live: line)", P.ALERT_READ, {
        "console": Door(route=("GET", "/console/live")),
    }),
    UseCase("verify the audit trail", P.AUDIT_READ, {
        "cli": Door(lambda w, t: ["audit", "verify"]),
        "api": Door(route=("GET", "/api/audit/verify")),
        "console": Door(route=("GET", "/audit"), request=lambda w, t: (NO_PATH, {"params": {"verify": 1}})),
    }),
    UseCase("the actions of the audit trail", P.AUDIT_READ, {
        "cli": Door(lambda w, t: ["audit", "actions"]),
        "api": Door(route=("GET", "/api/audit/actions")),
    }),
    UseCase("audit events", P.AUDIT_READ, {
        "cli": Door(lambda w, t: ["audit", "list", "--action", "deployment"]),
        "api": Door(route=("GET", "/api/audit/events"), request=lambda w, t: (NO_PATH, {"params": {"limit": 5}})),
    }),
    UseCase("export the audit trail", P.AUDIT_READ, events=1, doors={
        "cli": Door(lambda w, t: ["audit", "export", "--action", "login"]),
        "api": Door(route=("GET", "/api/audit/export"), request=lambda w, t: (
            NO_PATH, {"params": {"action": "login"}})),
        "console": Door(route=("GET", "/audit/export"), request=lambda w, t: (
            NO_PATH, {"params": {"format": "jsonl", "action": "login"}})),
    }),
    UseCase("accounts", P.USERS_MANAGE, {
        "cli": Door(lambda w, t: ["user", "list"]),
        "api": Door(route=("GET", "/api/users")),
        "console": Door(route=("GET", "/users")),
    }),
    UseCase("create an account", P.USERS_MANAGE, events=1, doors={
        "cli": Door(lambda w, t: ["user", "create", f"new-{t}", "--role", "auditor", "--password-stdin"]),
        "api": Door(route=("POST", "/api/users"), request=lambda w, t: (
            NO_PATH, {"json": {"username": f"new-{t}", "role": "auditor", "password": PASSWORD}})),
        "console": Door(route=("POST", "/users"), request=lambda w, t: (
            NO_PATH, {"data": {"username": f"new-{t}", "role": "auditor", "password": PASSWORD}})),
    }),
    UseCase("API tokens of an account", P.USERS_MANAGE, {
        "cli": Door(lambda w, t: ["user", "tokens", "auditor"]),
        "api": Door(route=("GET", "/api/users/{username}/tokens"), request=lambda w, t: ({"username": "auditor"}, {})),
        "console": Door(route=("GET", "/users/{username}/tokens"), request=lambda w, t: ({"username": "auditor"}, {})),
    }),
    UseCase("revoke an API token (no such token)", P.USERS_MANAGE, allowed="refused", doors={
        "cli": Door(lambda w, t: ["user", "revoke-token", "auditor", "999999", "--reason", "leaked", "--yes"]),
        "api": Door(route=("DELETE", "/api/users/{username}/tokens/{token_id}"), request=lambda w, t: (
            {"username": "auditor", "token_id": 999999}, {"params": {"reason": "leaked"}})),
        "console": Door(route=("POST", "/users/{username}/tokens/{token_id}/revoke"), request=lambda w, t: (
            {"username": "auditor", "token_id": 999999}, {"data": {"reason": "leaked", "confirm": "yes"}})),
    }),
    UseCase("approve a privileged account (dual control)", P.USERS_MANAGE, events=1, doors={
        "cli": Door(lambda w, t: ["user", "approve", f"pending-{t}"]),
        "api": Door(route=("POST", "/api/users/{username}/approve"), request=lambda w, t: (
            {"username": f"pending-{t}"}, {})),
        "console": Door(route=("POST", "/users/{username}/approve"), request=lambda w, t: (
            {"username": f"pending-{t}"}, {})),
    }),
    UseCase("reset a password (no such user)", P.USERS_MANAGE, allowed="refused", doors={
        "cli": Door(lambda w, t: ["user", "password", "nobody-at-all", "--password-stdin"]),
        "api": Door(route=("POST", "/api/users/{username}/password"), request=lambda w, t: (
            {"username": "nobody-at-all"}, {"json": {"password": PASSWORD}})),
    }),
    UseCase("disable an account", P.USERS_MANAGE, events=1, doors={
        "cli": Door(lambda w, t: ["user", "disable", f"leaver-{t}", "--reason", "doors test", "--yes"]),
        "api": Door(route=("POST", "/api/users/{username}/active"), request=lambda w, t: (
            {"username": f"leaver-{t}"}, {"json": {"active": False, "reason": "doors test"}})),
        "console": Door(route=("POST", "/users/{username}/active"), request=lambda w, t: (
            {"username": f"leaver-{t}"}, {"data": {"active": "false", "reason": "doors test", "confirm": "yes"}})),
    }),
    UseCase("record an account's rank", P.USERS_MANAGE, events=1, doors={
        "cli": Door(lambda w, t: ["user", "rank", f"leaver-{t}", "sergeant"]),
        "api": Door(route=("POST", "/api/users/{username}/rank"), request=lambda w, t: (
            {"username": f"leaver-{t}"}, {"json": {"rank": "sergeant"}})),
        "console": Door(route=("POST", "/users/{username}/rank"), request=lambda w, t: (
            {"username": f"leaver-{t}"}, {"data": {"rank": "sergeant"}})),
    }),
    UseCase("disable an account without a reason (refused)", P.USERS_MANAGE, allowed="refused", refusals=1, doors={
        "cli": Door(lambda w, t: ["user", "disable", "auditor", "--yes"]),
        "api": Door(route=("POST", "/api/users/{username}/active"), request=lambda w, t: (
            {"username": "auditor"}, {"json": {"active": False}})),
        "console": Door(route=("POST", "/users/{username}/active"), request=lambda w, t: (
            {"username": "auditor"}, {"data": {"active": "false", "confirm": "yes"}})),
    }),
    UseCase("ask to confirm disabling an account (the console's first step)", P.USERS_MANAGE, doors={
        "console": Door(route=("POST", "/users/{username}/active"), request=lambda w, t: (
            {"username": "auditor"}, {"data": {"active": "false", "reason": "doors test"}})),
    }),
]  # fmt: skip
# Open to anyone (sign-in) or to any signed-in user (their own account, the dashboard); the live stream is
# read by test_console against a real server (here: its refusal for roles without alert.read).
PUBLIC = {("GET", "/api/health"), ("POST", "/api/login"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
OWN_ACCOUNT = {("GET", "/api/me"), ("POST", "/api/me/password")}  # any signed-in user; tested in test_security
OWN_ACCOUNT |= {("POST", "/api/me/tokens"), ("GET", "/api/me/tokens"), ("GET", "/api/me/token-scopes")}
OWN_ACCOUNT |= {("DELETE", "/api/me/tokens/{token_id}")}  # one's own tokens: tested in test_one_true_actor
ANY_USER = {("GET", "/"), ("GET", "/account"), ("POST", "/account/password"), ("POST", "/account/totp")}
ANY_USER |= {
    ("POST", "/account/totp/confirm"),
    ("POST", "/account/tokens"),
    ("POST", "/account/tokens/{token_id}/revoke"),
}
STREAM = ("GET", "/console/events")


@pytest.fixture(scope="module")
def world(tmp_path_factory, sample_paths) -> World:
    root = tmp_path_factory.mktemp("doors")
    app = make_app(root / "home")
    people = staff(app)
    admin, authoriser = people[Role.ADMINISTRATOR], people[Role.AUTHORISING_OFFICER]
    second = sign_in(app, SECOND_ADMIN)
    photo = root / "yao.jpg"
    shutil.copy(sample_paths["yaoming"], photo)
    fields = EnrolFields("custody", "yao", "test", category="wanted-serious-offence")
    app.galleries.create(admin, "custody", "doors test", uses=["oifr", "rfr", "live"])
    app.galleries.create(admin, "cases", "doors test: retrospective searches only")  # OIFR and plans: 409
    app.galleries.create(admin, "live-only", "doors test: a live source only", uses=["live"])  # RFR: 409
    app.galleries.enrol_upload(admin, fields, filename="yao.jpg", data=photo.read_bytes())
    searches = {}
    for door in DOORS:  # what each door acts on when the role may: one of its own, so every call succeeds
        made = app.oifr.search(people[Role.OFFICER], photo.read_bytes(), grounds="refuses", details="doors test")
        searches[f"{door}-{username(Role.OFFICER)}"] = made.search_id  # officers' searches are officers' alone
        tag = f"{door}-{username(Role.ADMINISTRATOR)}"
        app.galleries.create(admin, f"uses-{tag}", "doors test: uses to change")
        app.galleries.enrol_upload(
            admin, EnrolFields("custody", f"del-{tag}", "test"), filename="p.jpg", data=photo.read_bytes()
        )
        app.staff.create_user(admin, f"leaver-{tag}", "auditor", TEMPORARY)
        app.staff.create_user(
            second, f"pending-{tag}", "authorising-officer", TEMPORARY, rank="superintendent"
        )  # for admin's approval
        app.deployments.plan(admin, DeploymentPlan(**_plan(f"auth-{door}-{username(Role.AUTHORISING_OFFICER)}")))
        for role in (Role.OPERATOR, Role.AUTHORISING_OFFICER):
            app.deployments.plan(admin, DeploymentPlan(**_plan(f"close-{door}-{username(role)}")))
    app.deployments.plan(authoriser, DeploymentPlan(**_plan("draft-x")))
    web = TestClient(create_app(app), base_url="https://testserver")
    tokens = {role: api_token(app, username(role)) for role in Role}
    consoles = {role: _console(web.app, role) for role in Role}
    return World(root / "home", app, web, tokens, consoles, photo, searches=searches)


def _console(web_app, role: Role) -> TestClient:
    return console_client(web_app, username(role))


def _cli(w: World, args: list[str]) -> tuple[str, str]:
    env = {"OPENFR_HOME": str(w.home), "OPENFR_ENGINE__WORKERS": "1"}
    done = CliRunner().invoke(cli_app, args, env=env, input=PASSWORD + "\n")
    if done.exit_code == 0:
        return "ok", ""
    text = (done.stderr if done.stderr_bytes else done.output).strip()
    assert done.exit_code == 2 and text.startswith("openfr: error:"), (args, done.exit_code, text, done.exception)
    return ("denied" if re.search(r"may not [a-z-]+\.[a-z]+", text) else "refused"), text


def _http(w: World, door: str, role: Role, spec: Door, tag: str) -> tuple[str, str]:
    method, template = spec.route  # type: ignore[misc]
    values, kwargs = spec.request(w, tag) if spec.request else ({}, {})
    url = template.format(**values)
    if door == "api":
        answer = w.web.request(method, url, headers={"Authorization": f"Bearer {w.tokens[role]}"}, **kwargs)
    else:
        client = w.consoles[role]
        if method == "POST" and "files" not in kwargs:
            kwargs = {**kwargs, "data": {**kwargs.get("data", {}), "csrftoken": client.csrf}}
        answer = client.request(method, url, follow_redirects=False, **kwargs)
    assert answer.status_code < 500, (door, method, url, answer.status_code, answer.text[:300])
    if answer.status_code == 403:
        return "denied", answer.text
    return ("ok" if answer.status_code < 400 else "refused"), answer.text


def _fingerprint(w: World) -> tuple:
    """What an act changes: the audit events but refusals, rows, accounts, deployments; and (last) the refusals."""
    with w.app.runtime.db.read() as session:
        count = session.scalar
        states = sorted(session.execute(sa.select(Deployment.name, Deployment.state, Deployment.authorised_by)).all())
        refused = AuditEvent.action == REFUSED
        return (
            count(sa.select(sa.func.count()).select_from(AuditEvent).where(~refused)),
            count(sa.select(sa.func.count()).select_from(Subject)),
            count(sa.select(sa.func.count()).select_from(SearchRecord)),
            sorted(session.execute(sa.select(User.username, User.active)).all()),
            states,
            count(sa.select(sa.func.count()).select_from(AuditEvent).where(refused)),
        )


def test_each_use_case_gives_each_role_the_same_answer_at_every_door(world):
    w = world
    answers: dict[tuple[str, Role], dict[str, str]] = {}
    for role in Role:
        env = {"OPENFR_HOME": str(w.home)}
        signed = CliRunner().invoke(cli_app, ["login", username(role), "--password-stdin"], env=env, input=PASSWORD)
        assert signed.exit_code == 0, signed.output
        for case in USE_CASES:
            for door, spec in case.doors.items():
                tag = f"{door}-{username(role)}"
                before = _fingerprint(w)
                outcome, text = _cli(w, spec.cli(w, tag)) if door == "cli" else _http(w, door, role, spec, tag)
                after = _fingerprint(w)
                answers.setdefault((case.name, role), {})[door] = outcome
                expected = case.allowed if case.held_by(role) else "denied"
                where = f"{case.name} as {role.value} through the {door}: {text[:200]}"
                assert outcome == expected, where
                if outcome == "ok":
                    views = case.page_views if door == "console" else 0
                    assert after[0] - before[0] == case.events + views, f"audit events written: {where}"
                    assert after[-1] == before[-1], f"a refusal recorded for an act that went through: {where}"
                else:
                    assert after[:-1] == before[:-1], f"a refusal changed something: {where}"
                    recorded = 1 if outcome == "denied" else case.refusals  # every denial is a recorded refusal
                    assert after[-1] - before[-1] == recorded, f"refusal events recorded: {where}"
    for (name, role), by_door in answers.items():
        assert len(set(by_door.values())) == 1, (name, role, by_door)
    assert len(answers) == len(USE_CASES) * len(Role)


def test_a_command_line_that_is_not_signed_in_changes_nothing(world):
    w = world
    env = {"OPENFR_HOME": str(w.home)}
    CliRunner().invoke(cli_app, ["logout"], env=env)
    before = _fingerprint(w)
    for case in USE_CASES:  # nobody is acting: nothing to record, not even a refusal
        spec = case.doors.get("cli")
        if spec is None:
            continue
        args = spec.cli(w, "anonymous")
        done = CliRunner().invoke(cli_app, args, env=env, input=PASSWORD + "\n")
        text = done.stderr if done.stderr_bytes else done.output
        assert done.exit_code == 2 and "not signed in" in text, (args, text)
    assert _fingerprint(w) == before


def test_no_route_escapes_the_table(world):
    covered = {spec.route for case in USE_CASES for spec in case.doors.values() if spec.route}
    web_app = world.web.app
    routes = set()
    for route in _flatten(web_app.routes):
        for method in getattr(route, "methods", ()):
            if not route.path.startswith(("/docs", "/redoc", "/openapi", "/static")):
                routes.add((method, route.path))
    missing = routes - covered - PUBLIC - ANY_USER - OWN_ACCOUNT - {STREAM, ("HEAD", "/static")}
    assert not missing, f"routes without a row in USE_CASES: {sorted(missing)}"
    for role in Role:  # the live stream: refused before it starts for a role that may not read alerts
        if P.ALERT_READ not in MATRIX[role]:
            assert world.consoles[role].get("/console/events").status_code == 403


def _flatten(routes):
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _flatten(included.routes) if included is not None else [route]
