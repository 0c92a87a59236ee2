"""A control room's burst: 50 requests at once through a running server (sign-ins, retrospective searches,
enrolments, deployment starts and stops, audit reads), optionally with officers' OIFR searches among them.
Used by tests/test_concurrency.py (no server error, one audit event per success) and benchmarks/burst.py
(latency per kind), so that both measure the same burst."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from PIL import Image

from actors import PASSWORD
from gallery_data import crop, team_faces
from live_data import a_plan
from openfr.governance.permissions import Role
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST
from openfr.services import Application, Principal
from openfr.services.galleries import EnrolFields

GALLERY, DEPLOYMENT = "custody", "busy-day"
SIGNED_IN = ("investigator", "operator", "auditor")  # their tokens are taken before the burst
KINDS = ("login", "search", "enrol", "start_or_stop", "audit")  # the burst's mix, ten of each in 50


@dataclass
class Answer:
    kind: str  # login, search, enrol, start, stop, audit, oifr
    response: httpx.Response
    seconds: float


def face_photos(engine, samples, team_path) -> list[bytes]:
    """One JPEG per usable face of the team photo: different people, real faces."""
    team = Image.open(team_path).convert("RGB")
    photos = []
    for box in team_faces(engine, samples):
        buffer = io.BytesIO()
        crop(team, box, size=224).save(buffer, format="JPEG", quality=95)
        photos.append(buffer.getvalue())
    return photos


def prepare(app: Application, people: dict[Role, Principal], photo: bytes, clip_name: str) -> None:
    """A custody gallery with one wanted subject (approved for search, live use and OIFR) and an authorised
    deployment on the clip, ready to start."""
    admin = people[Role.ADMINISTRATOR]
    app.galleries.create(admin, GALLERY, "test gallery", ["rfr", "live", "oifr"])
    fields = EnrolFields(GALLERY, "wanted-1", "test", category="wanted-serious-offence")
    app.galleries.enrol_upload(admin, fields, filename="w.jpg", data=photo)
    plan = a_plan({"cam": clip_name}, name=DEPLOYMENT, grounds="concurrency test", source_gallery=GALLERY)
    app.deployments.plan(admin, plan)
    confirmed = dict.fromkeys(AUTHORISATION_CHECKLIST, True)
    app.deployments.authorise(people[Role.AUTHORISING_OFFICER], DEPLOYMENT, "ok", confirmed)
    app.runtime.engine  # noqa: B018 - the model is loaded before the crowd arrives, as in a running server


def token(client: httpx.Client, name: str) -> dict:
    done = client.post("/api/login", json={"username": name, "password": PASSWORD})
    assert done.status_code == 200, done.text
    return {"Authorization": f"Bearer {done.json()['token']}"}


def burst(client: httpx.Client, photos: list[bytes], headers: dict[str, dict], officers: int = 0) -> list[Answer]:
    """The 50 requests (every other sign-in with a wrong password, starts and stops alternating), plus
    `officers` OIFR searches (headers must then hold the officer's), all sent at once; the answers in order."""

    def login(i: int):
        password = PASSWORD if i % 2 == 0 else "not the password"
        return "login", client.post("/api/login", json={"username": "auditor", "password": password})

    def search(i: int):
        data = {"gallery": GALLERY, "reason": f"concurrency {i}"}
        files = {"image": ("p.jpg", photos[i % len(photos)], "image/jpeg")}
        return "search", client.post("/api/search", data=data, files=files, headers=headers["investigator"])

    def enrol(i: int):
        data = {"subject": f"S-{i:03d}-{time.monotonic_ns()}", "source": "concurrency test"}
        files = {"image": ("p.jpg", photos[i % len(photos)], "image/jpeg")}
        url = f"/api/galleries/{GALLERY}/enrol"
        return "enrol", client.post(url, data=data, files=files, headers=headers["investigator"])

    def start_or_stop(i: int):
        verb = "start" if i % 2 == 0 else "stop"
        return verb, client.post(f"/api/deployments/{DEPLOYMENT}/{verb}", headers=headers["operator"])

    def audit(i: int):
        return "audit", client.get("/api/audit/events", params={"limit": 50}, headers=headers["auditor"])

    def oifr(i: int):
        data = {"grounds": "refuses", "details": "burst test", "location": "test square", "gallery": GALLERY}
        files = {"image": ("p.jpg", photos[i % len(photos)], "image/jpeg")}
        return "oifr", client.post("/api/oifr/search", data=data, files=files, headers=headers["officer"])

    makers = {"login": login, "search": search, "enrol": enrol, "start_or_stop": start_or_stop, "audit": audit}
    calls = [(makers[KINDS[i % len(KINDS)]], i) for i in range(50)]
    calls += [(oifr, 50 + i) for i in range(officers)]

    def timed(call) -> Answer:
        started = time.monotonic()
        kind, response = call[0](call[1])
        return Answer(kind, response, time.monotonic() - started)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(timed, calls))
