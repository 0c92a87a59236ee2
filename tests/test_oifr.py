"""Operator-initiated facial recognition (issue 16): purpose limitation enforced in the services whatever the
door, approved grounds recorded with the officer's details and location, the top six possible matches with
the wording, the result recorded once by the searching officer, migration 0014, and a probe that is never
stored (every file under $OPENFR_HOME and every table compared before and after)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from actors import PASSWORD, add_user, api_token, make_app, staff, username
from openfr.cli import app as cli_app
from openfr.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.imageio import load_image
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan
from openfr.services.galleries import EnrolFields
from openfr.services.oifr import POSSIBLE_MATCH
from openfr.services.searches import SearchRequest
from openfr.store import AuditEvent, SearchRecord
from openfr.store.db import alembic_config
from openfr.web.app import create_app

ADMIN, OFFICER, INVESTIGATOR = Role.ADMINISTRATOR, Role.OFFICER, Role.INVESTIGATOR
GROUNDS = {"grounds": "refuses", "details": "gave a false name after a theft", "location": "High Street, Leeds"}


def _probe(sample_paths) -> bytes:
    """Yao Ming's portrait as a phone would send it: larger, re-encoded, so its bytes are in no stored file."""
    image = Image.open(sample_paths["yaoming"]).convert("RGB")
    image = image.resize((image.width * 2, image.height * 2), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=93)
    return buffer.getvalue()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample_paths):
    """custody (oifr, rfr) holding Yao and seven look-alike records of him; cases (rfr) and watchlist (live)
    holding Yao; an officer, a second officer, an investigator; API tokens; the web app."""
    root = tmp_path_factory.mktemp("oifr")
    app = make_app(root / "home")
    people = staff(app)
    admin = people[ADMIN]
    people["officer2"] = add_user(app, admin, "officer2", "officer")
    folder = root / "custody"
    for ref in ["YAO", *(f"YAO-COPY-{i}" for i in range(1, 8))]:  # eight subjects above the threshold
        (folder / ref).mkdir(parents=True)
        shutil.copy(sample_paths["yaoming"], folder / ref / "1.jpg")
    app.galleries.enrol_folder(admin, "custody", folder, create="custody images (test)", uses=["oifr", "rfr"])
    yao = sample_paths["yaoming"].read_bytes()
    for name, uses in (("cases", ["rfr"]), ("watchlist", ["live"])):
        app.galleries.create(admin, name, f"{name} (test)", uses)
        app.galleries.enrol_upload(admin, EnrolFields(name, "YAO", "test"), filename="y.jpg", data=yao)
    web = TestClient(create_app(app), base_url="https://testserver")
    tokens = {who: api_token(app, who) for who in ("officer", "officer2")}
    tokens["investigator"] = api_token(app, "investigator")
    tokens["operator"] = api_token(app, "operator")
    return app, people, web, tokens, _probe(sample_paths)


def _count(app, model, *where) -> int:
    with app.runtime.db.read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _record(app, search_id: int) -> SearchRecord:
    with app.runtime.db.read() as session:
        return session.get(SearchRecord, search_id)


def _cli(app, *args: str):
    env = {"OPENFR_HOME": str(app.runtime.home), "OPENFR_ENGINE__WORKERS": "1"}
    return CliRunner().invoke(cli_app, list(args), env=env, input=PASSWORD + "\n")


# -- the search: grounds, top six, the wording, the record -------------------------------------------------------


def test_a_search_lists_the_top_six_possible_matches_and_records_grounds_details_and_location(site):
    app, people, _, _, probe = site
    found = app.oifr.search(people[OFFICER], probe, **GROUNDS)  # no gallery named: the one approved for OIFR
    assert found.gallery == "custody" and found.wording == POSSIBLE_MATCH
    assert POSSIBLE_MATCH == "Possible match: confirm identity by other means."
    assert len(found.candidates) == 6 and [c.rank for c in found.candidates] == [1, 2, 3, 4, 5, 6]
    assert all(c.score >= found.threshold and c.subject.startswith("YAO") for c in found.candidates)
    body = found.as_dict()
    image = body["candidates"][0]["image"]  # with the grant that makes it part of the search's own record
    assert image == f"/api/searches/{found.search_id}/candidates/1/image?grant={found.grants[1]}"
    assert len(app.oifr.search(people[OFFICER], probe, **GROUNDS, top=3).candidates) == 3
    record = _record(app, found.search_id)
    assert (record.actor, record.mode, record.gallery, record.grounds) == ("officer", "OIFR", "custody", "refuses")
    assert (record.reason, record.location) == (GROUNDS["details"], GROUNDS["location"])
    assert [c["subject"] for c in record.candidates] == [c.subject for c in found.candidates]
    assert record.result is None
    with app.runtime.db.read() as session:
        event = next(e for e in audit.events(session, action="search") if e["details"]["search_id"] == found.search_id)
    assert event["actor"] == "officer" and event["reason"] == GROUNDS["details"]
    wanted = {"mode": "OIFR", "grounds": "refuses", "location": GROUNDS["location"], "top": 6}
    assert event["details"].items() >= wanted.items()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"grounds": "curiosity"}, "grounds must be one of: injury, refuses, missing-or-wanted"),
        ({"grounds": ""}, "grounds must be one of"),
        ({"details": "   "}, "in your own words"),
        ({"location": "x" * 301}, "location is longer"),
        ({"top": 0}, "top must be between 1 and 20"),
        ({"top": 21}, "top must be between 1 and 20"),
    ],
)
def test_bad_grounds_or_details_are_refused_and_record_nothing(site, change, message):
    """Nothing is searched or kept; missing grounds or details are a safeguard's refusal, itself recorded."""
    app, people, _, _, probe = site
    refusal = AuditEvent.action == "refused"
    before = (_count(app, SearchRecord), _count(app, AuditEvent, ~refusal), _count(app, AuditEvent, refusal))
    with pytest.raises(BadInputError, match=message):
        app.oifr.search(people[OFFICER], probe, **{**GROUNDS, **change})
    safeguard = "grounds" in change or "details" in change
    after = (_count(app, SearchRecord), _count(app, AuditEvent, ~refusal), _count(app, AuditEvent, refusal))
    assert after == (*before[:2], before[2] + safeguard)


def test_the_api_answers_the_contract_with_no_store_and_the_candidate_images_are_the_searchers(site):
    app, _, web, tokens, probe = site
    grounds = web.get("/api/oifr/grounds", headers=_bearer(tokens["officer"]))
    assert grounds.status_code == 200
    assert [g["key"] for g in grounds.json()] == ["injury", "refuses", "missing-or-wanted"]
    photo = {"image": ("phone.jpg", probe, "image/jpeg")}
    answer = web.post("/api/oifr/search", data=GROUNDS, files=photo, headers=_bearer(tokens["officer"]))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert {"search_id", "gallery", "wording", "threshold", "probe_quality", "candidates", "elapsed_ms"} <= set(body)
    assert body["wording"] == POSSIBLE_MATCH and len(body["candidates"]) == 6
    first = body["candidates"][0]
    assert set(first) >= {"rank", "subject", "name", "score", "image"} and first["subject"].startswith("YAO")
    assert web.get(first["image"], headers=_bearer(tokens["officer"])).headers["content-type"] == "image/jpeg"
    assert web.get(first["image"], headers=_bearer(tokens["officer2"])).status_code == 404  # not theirs
    refusals = {
        "bad grounds": ({**GROUNDS, "grounds": "hunch"}, photo, tokens["officer"], 400),
        "no details": ({**GROUNDS, "details": ""}, photo, tokens["officer"], 400),
        "no face": (GROUNDS, {"image": ("x.png", _grey_png(), "image/png")}, tokens["officer"], 400),
        "a role that does not search": (GROUNDS, photo, tokens["operator"], 403),
    }
    before = _count(app, SearchRecord)
    for why, (form, files, token, code) in refusals.items():
        refused = web.post("/api/oifr/search", data=form, files=files, headers=_bearer(token))
        assert refused.status_code == code, (why, refused.text)
    assert _count(app, SearchRecord) == before


def _grey_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (120, 120, 120)).save(buffer, "PNG")
    return buffer.getvalue()


# -- purpose limitation -------------------------------------------------------------------------------------------


def test_an_oifr_search_cannot_reach_a_gallery_not_approved_for_it_at_any_door(site):
    app, people, web, tokens, probe = site
    assert _cli(app, "login", "officer", "--password-stdin").exit_code == 0  # (a recorded sign-in)
    refusals = AuditEvent.action == "refused"
    before = (_count(app, SearchRecord), _count(app, AuditEvent, ~refusals), _count(app, AuditEvent, refusals))
    for gallery, uses in (("cases", "rfr"), ("watchlist", "live")):
        wording = f"gallery {gallery} is not approved for operator-initiated searches (its uses: {uses})"
        with pytest.raises(ConflictError) as refused:
            app.oifr.search(people[OFFICER], probe, **GROUNDS, gallery=gallery)
        assert str(refused.value) == wording
        photo = {"image": ("p.jpg", probe, "image/jpeg")}
        api = web.post(
            "/api/oifr/search", data={**GROUNDS, "gallery": gallery}, files=photo, headers=_bearer(tokens["officer"])
        )
        assert api.status_code == 409 and api.json()["detail"] == wording
        generic = web.post(  # the general search API, asked for an operator-initiated search: not an officer's door
            "/api/search", data={"gallery": gallery, "reason": "r", "mode": "OIFR"}, files=photo,
            headers=_bearer(tokens["officer"]),
        )  # fmt: skip
        assert generic.status_code == 403 and "may not search.rfr" in generic.json()["detail"]
    photo_file = app.runtime.home.parent / "probe.jpg"
    photo_file.write_bytes(probe)
    args = ["--grounds", "injury", "--details", "unconscious", "--gallery", "cases"]
    cli = _cli(app, "oifr", "search", str(photo_file), *args)
    assert cli.exit_code == 2 and "not approved for operator-initiated searches (its uses: rfr)" in cli.output
    # Each refusal is on record (the two galleries at three doors, and the CLI's), and nothing else is.
    assert (_count(app, SearchRecord), _count(app, AuditEvent, ~refusals)) == before[:2]
    assert _count(app, AuditEvent, refusals) == before[2] + 7


def test_a_retrospective_search_is_refused_on_a_gallery_approved_for_oifr_alone(tmp_path, sample_paths):
    app = make_app(tmp_path / "home")
    people = staff(app)
    with pytest.raises(ConflictError, match="no gallery is approved for operator-initiated searches"):
        app.oifr.search(people[OFFICER], b"not read", **GROUNDS)
    app.galleries.create(people[ADMIN], "phone-only", "custody images for OIFR (test)", ["oifr"])
    request = SearchRequest("phone-only", "CCTV still of a burglary")
    refusal = r"phone-only is not approved for retrospective searches \(its uses: oifr\)"
    with pytest.raises(ConflictError, match=refusal):
        app.search.search(people[INVESTIGATOR], request, sample_paths["yaoming"].read_bytes())
    app.galleries.create(people[ADMIN], "phone-too", "more custody images (test)", ["oifr", "rfr"])
    with pytest.raises(BadInputError, match=r"several galleries .* \(phone-only, phone-too\): choose one"):
        app.oifr.search(people[OFFICER], b"not read", **GROUNDS)
    assert _count(app, SearchRecord) == 0


def test_a_deployment_is_planned_and_authorised_only_on_a_gallery_approved_as_a_live_source(site):
    app, people, *_ = site
    admin, authoriser = people[ADMIN], people[Role.AUTHORISING_OFFICER]

    def plan(name: str, gallery: str) -> DeploymentPlan:
        return DeploymentPlan(
            name=name, grounds="test", categories=["wanted-serious-offence"], source_gallery=gallery,
            location="square", location_rationale="test", cameras={"cam": "rtsp://cam.example/1"},
            public_notice={"signage": "signs"},
        )  # fmt: skip

    for gallery in ("custody", "cases"):
        with pytest.raises(ConflictError, match=f"gallery {gallery} is not approved for live deployment watchlists"):
            app.deployments.plan(admin, plan(f"on-{gallery}", gallery))
    app.deployments.plan(admin, plan("on-watchlist", "watchlist"))
    app.galleries.set_uses(admin, "watchlist", ["live", "rfr"], "test: a second use")
    app.galleries.set_uses(admin, "watchlist", ["rfr"], "DPIA for live use lapsed")
    with pytest.raises(ConflictError, match="not approved for live deployment watchlists"):
        app.deployments.authorise(authoriser, "on-watchlist", "ok", dict.fromkeys(AUTHORISATION_CHECKLIST, True))
    assert app.deployments.get(admin, "on-watchlist").state == "draft"
    app.galleries.set_uses(admin, "watchlist", ["live"], "DPIA renewed")
    assert app.deployments.planning_options(admin)["galleries"] == ["watchlist"]


def test_uses_are_set_by_administrators_with_a_recorded_reason(site):
    app, people, web, _, _ = site
    admin, investigator = people[ADMIN], people[INVESTIGATOR]
    with pytest.raises(PermissionDeniedError, match=r"may not gallery\.manage"):
        app.galleries.set_uses(investigator, "cases", ["rfr", "oifr"], "please")
    with pytest.raises(PermissionDeniedError, match=r"may not gallery\.manage"):  # approving OIFR at creation too
        app.galleries.create(investigator, "sneaky", "custody images", ["oifr"])
    assert app.galleries.create(investigator, "case-42", "case material")["uses"] == ["rfr"]  # the default
    with pytest.raises(BadInputError, match="at least one use"):
        app.galleries.create(admin, "nothing", "test", [])
    with pytest.raises(BadInputError, match="unknown gallery use 'facebook'"):
        app.galleries.set_uses(admin, "case-42", ["facebook"], "test")
    with pytest.raises(BadInputError, match="reason"):
        app.galleries.set_uses(admin, "case-42", ["rfr", "live"], " ")
    events = _count(app, AuditEvent)
    done = app.galleries.set_uses(admin, "case-42", ["live", "rfr", "live"], "DPIA 2026/7: approved for LFR")
    assert done == {"name": "case-42", "uses": ["rfr", "live"], "previous": ["rfr"], "changed": True}
    with app.runtime.db.read() as session:
        event = audit.events(session, action="gallery.uses", resource="gallery:case-42")[-1]
    assert (event["actor"], event["reason"]) == ("administrator", "DPIA 2026/7: approved for LFR")
    wanted = {"uses": ["rfr", "live"], "previous": ["rfr"], "added": ["live"], "removed": []}
    assert all(event["details"][key] == value for key, value in wanted.items())
    assert app.galleries.set_uses(admin, "case-42", ["rfr", "live"], "again")["changed"] is False
    assert _count(app, AuditEvent) == events + 1  # setting what is already set records nothing
    admin_token = api_token(app, "administrator")
    withdrawn = {"uses": [], "reason": "case closed"}
    api = web.post("/api/galleries/case-42/uses", json=withdrawn, headers=_bearer(admin_token))
    assert api.status_code == 200 and api.json()["uses"] == []
    listed = {g["name"]: g["uses"] for g in web.get("/api/galleries", headers=_bearer(admin_token)).json()}
    assert listed["case-42"] == [] and listed["custody"] == ["oifr", "rfr"]
    assert _cli(app, "login", "administrator", "--password-stdin").exit_code == 0
    cli = _cli(app, "gallery", "uses", "case-42", "--use", "rfr", "--reason", "reopened", "--json")
    assert cli.exit_code == 0 and '"uses":["rfr"]' in cli.output
    assert _cli(app, "gallery", "uses", "case-42", "--use", "rfr").exit_code == 2  # no reason


# -- the result ------------------------------------------------------------------------------------------------------


def test_the_result_is_recorded_once_by_the_searching_officer_alone(site):
    app, people, web, tokens, probe = site
    found = app.oifr.search(people[OFFICER], probe, **GROUNDS)
    with pytest.raises(NotFoundError, match=f"no operator-initiated search {found.search_id} of yours"):
        app.oifr.record_result(people["officer2"], found.search_id, "not-the-person")
    for other in (people[Role.OPERATOR], people[INVESTIGATOR]):  # officers' searches are officers' alone
        with pytest.raises(PermissionDeniedError):
            app.oifr.record_result(other, found.search_id, "not-the-person")
    with pytest.raises(BadInputError, match="result must be one of: confirmed-by-other-means"):
        app.oifr.record_result(people[OFFICER], found.search_id, "probably")
    url = f"/api/oifr/searches/{found.search_id}/result"
    assert web.post(url, json={"result": "inconclusive"}, headers=_bearer(tokens["officer2"])).status_code == 404
    assert _record(app, found.search_id).result is None
    outcome = {"result": "confirmed-by-other-means", "note": "PNC check"}
    done = web.post(url, json=outcome, headers=_bearer(tokens["officer"]))
    assert done.status_code == 200 and done.json()["result"] == "confirmed-by-other-means"
    again = web.post(url, json={"result": "not-the-person"}, headers=_bearer(tokens["officer"]))
    assert again.status_code == 409 and "recorded already" in again.json()["detail"]
    record = _record(app, found.search_id)
    assert (record.result, record.result_by) == ("confirmed-by-other-means", "officer")
    assert record.result_at is not None and record.result_at.replace(tzinfo=UTC) <= datetime.now(UTC)
    with app.runtime.db.read() as session:
        events = audit.events(session, action="search.result", resource=f"search:{found.search_id}")
    assert len(events) == 1 and events[0]["actor"] == "officer" and events[0]["reason"] == "PNC check"
    assert events[0]["details"]["result"] == "confirmed-by-other-means"
    retrospective = app.search.search(people[INVESTIGATOR], SearchRequest("cases", "CCTV"), probe)
    with pytest.raises(PermissionDeniedError):  # a retrospective search has no OIFR result: not its searcher's
        app.oifr.record_result(people[INVESTIGATOR], retrospective.search_id, "inconclusive")
    with pytest.raises(NotFoundError):  # nor an officer's, whose searches it is not
        app.oifr.record_result(people[OFFICER], retrospective.search_id, "inconclusive")


def test_the_command_line_searches_and_records_the_result(site):
    app, _, _, _, probe = site
    photo = app.runtime.home.parent / "cli-probe.jpg"
    photo.write_bytes(probe)
    assert _cli(app, "login", "officer", "--password-stdin").exit_code == 0
    args = ["--grounds", "missing-or-wanted", "--details", "matches a missing-person report", "--json"]
    done = _cli(app, "oifr", "search", str(photo), *args)
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout.strip().splitlines()[-1])
    assert body["wording"] == POSSIBLE_MATCH and len(body["candidates"]) == 6 and body["gallery"] == "custody"
    assert _record(app, body["search_id"]).grounds == "missing-or-wanted"
    result = _cli(app, "oifr", "result", str(body["search_id"]), "not-the-person", "--note", "spoke to her")
    assert result.exit_code == 0 and _record(app, body["search_id"]).result == "not-the-person"
    twice = _cli(app, "oifr", "result", str(body["search_id"]), "inconclusive")
    assert twice.exit_code == 2 and "recorded already" in twice.output


# -- migration 0014 ----------------------------------------------------------------------------------------------


def test_migration_0014_gives_existing_galleries_rfr_and_live_and_never_oifr(database_url):
    engine = sa.create_engine(database_url)
    _upgrade(engine, database_url, "0013")
    tables = sa.MetaData()
    tables.reflect(engine, only=["galleries", "searches"])
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for name in ("custody", "watchlist"):
            connection.execute(tables.tables["galleries"].insert().values(
                name=name, kind="gallery", purpose="old", space="buffalo_s@x", created_by="old", created_at=now,
            ))  # fmt: skip
        connection.execute(tables.tables["searches"].insert().values(
            at=now, actor="old", mode="RFR", reason="old", gallery="custody", space="buffalo_s@x", candidates=[],
        ))  # fmt: skip
    _upgrade(engine, database_url, "head")
    tables = sa.MetaData()
    tables.reflect(engine, only=["galleries", "searches"])
    galleries, searches = tables.tables["galleries"], tables.tables["searches"]
    with engine.connect() as connection:
        uses = dict(connection.execute(sa.select(galleries.c.name, galleries.c.uses)).all())
        old = connection.execute(sa.select(searches)).one()._mapping
    engine.dispose()
    decoded = {name: value if isinstance(value, list) else json.loads(value) for name, value in uses.items()}
    assert decoded == {"custody": ["rfr", "live"], "watchlist": ["rfr", "live"]}
    assert all(old[c] is None for c in ("grounds", "location", "result", "result_at", "result_by"))


def _upgrade(engine, url: str, revision: str) -> None:
    from alembic import command

    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


# -- the probe is never stored ---------------------------------------------------------------------------------------


def _files(home: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(home)): (p.stat().st_size, p.stat().st_mtime_ns) for p in home.rglob("*") if p.is_file()}


def _tables(app) -> dict[str, list[tuple]]:
    with app.runtime.db.read() as session:
        names = sa.inspect(session.connection()).get_table_names()
        return {n: [tuple(r) for r in session.execute(sa.text(f'SELECT * FROM "{n}" ORDER BY 1'))] for n in names}


def _needles(probe: bytes, vector: bytes) -> dict[str, bytes]:
    """Byte sequences that only a copy of the probe (or its embedding) would contain, raw and encoded."""
    digest = hashlib.sha256(probe)
    needles = {"sha256": digest.digest(), "sha256 hex": digest.hexdigest().encode()}
    for fraction in (3, 2):
        at = (len(probe) // fraction) // 3 * 3  # a multiple of 3: its base64 lines up with the whole file's
        needles[f"bytes at {at}"] = probe[at : at + 64]
        needles[f"base64 at {at}"] = base64.b64encode(probe[at : at + 48])
    needles["the last 64 bytes"] = probe[-64:]
    needles["embedding"] = vector[64:128]
    return needles


def test_the_probe_is_never_stored_anywhere_under_the_home_nor_in_any_table(tmp_path, sample_paths):
    home = tmp_path / "home"
    app = make_app(home)
    people = staff(app)
    app.galleries.create(people[ADMIN], "custody", "custody images (test)", ["oifr"])
    fields = EnrolFields("custody", "YAO", "test")
    app.galleries.enrol_upload(people[ADMIN], fields, filename="y.jpg", data=sample_paths["yaoming"].read_bytes())
    web = TestClient(create_app(app), base_url="https://testserver")
    token = api_token(app, username(OFFICER))
    warm = web.post(  # builds the gallery's index (derived from the gallery, not the probe) before looking
        "/api/oifr/search", data=GROUNDS, files={"image": ("w.jpg", _probe(sample_paths), "image/jpeg")},
        headers=_bearer(token),
    )  # fmt: skip
    assert warm.status_code == 200
    probe = _mirrored(sample_paths)
    vector = app.runtime.engine.analyse(load_image(probe))[0].embedding.vector.astype("<f4").tobytes()
    files, tables = _files(home), _tables(app)

    answer = web.post(
        "/api/oifr/search", data=GROUNDS, files={"image": ("phone.jpg", probe, "image/jpeg")}, headers=_bearer(token)
    )
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    search_id = answer.json()["search_id"]
    assert answer.json()["candidates"][0]["subject"] == "YAO"
    outcome = {"result": "confirmed-by-other-means"}
    assert web.post(f"/api/oifr/searches/{search_id}/result", json=outcome, headers=_bearer(token)).status_code == 200

    after_files, after_tables = _files(home), _tables(app)
    changed = {p for p in files.keys() | after_files.keys() if files.get(p) != after_files.get(p)}
    allowed = {"openfr.db", "openfr.db-wal", "openfr.db-shm", "keys/audit-checkpoints.jsonl"}
    assert changed <= allowed, changed - allowed
    assert {n for n in tables if tables[n] != after_tables[n]} == {"searches", "audit_events"}
    assert len(after_tables["searches"]) == len(tables["searches"]) + 1
    actions = [row for row in after_tables["audit_events"] if row not in tables["audit_events"]]
    assert len(actions) == 2  # the search and its result
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for what, needle in _needles(probe, vector).items():
                assert needle not in data, f"{what} of the probe found in {path.relative_to(home)}"
    app.close()


def _mirrored(sample_paths) -> bytes:
    """A second photo of Yao, as distinct in its bytes from the warm-up's as from the enrolled image."""
    image = Image.open(io.BytesIO(_probe(sample_paths))).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=91)
    return buffer.getvalue()
