"""The authorising officer decides with the facts in front of them: the watchlist a plan would snapshot (by
category, and who it leaves out), the threshold that would apply with its expected false alerts, the
cameras' sources without credentials, the faces on demand (this plan's only, each look recorded, and still
no gallery pages), and a checklist that every door requires and the decision records. The dashboard tells
each authorising officer which plans await them (never their own). Real browser at desktop and phone size.
"""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from actors import (
    PASSWORD,
    add_user,
    api_token,
    console_client,
    demo_installation,
    make_app,
    staff,
    username,
)
from browsers import serious, shot
from gallery_data import crop, team_faces
from openfr.cli import app as cli_app
from openfr.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from openfr.governance.credentials import TokenKind
from openfr.governance.permissions import Role
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan
from openfr.services.galleries import EnrolFields
from openfr.store import AuditEvent, Deployment, SourceImage, Subject, WatchlistEntry
from openfr.thresholds import expected_false_alerts
from openfr.web.app import create_app

ADMIN, AUTHORISER, OPERATOR = Role.ADMINISTRATOR, Role.AUTHORISING_OFFICER, Role.OPERATOR
OTHER_AUTHORISER = "authoriser_two"
CONFIRMED = dict.fromkeys(AUTHORISATION_CHECKLIST, True)
APPROVED = ["wanted-serious-offence", "missing-person"]
# Camera URLs as forces write them: credentials and tokens that no authorising officer should be shown.
CAMERAS = {
    "gate": "rtsp://admin:s3cret-pw@10.1.2.3:554/stream1?token=tok-9f8e",
    "hall": "https://viewer:hunter2@10.1.2.4/live",
}
SECRETS = ("s3cret-pw", "tok-9f8e", "hunter2", "viewer", "admin:")
# The gallery: (subject, category, images). Two categories approved; one not; one person with none.
PEOPLE = [
    ("p0", "wanted-serious-offence", 2),
    ("p1", "wanted-serious-offence", 1),
    ("p2", "wanted-serious-offence", 1),
    ("p3", "missing-person", 1),
    ("p4", "missing-person", 1),
    ("p5", "vulnerable-person", 1),
    ("p6", "", 1),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory, engine, samples, sample_paths):
    app = make_app(tmp_path_factory.mktemp("authoriser") / "home")
    people = staff(app)
    admin = people[ADMIN]
    people["other"] = add_user(app, admin, OTHER_AUTHORISER, "authorising-officer")
    app.galleries.create(admin, "custody", "test custody images", ["rfr", "live"])
    team = Image.open(sample_paths["players"]).convert("RGB")
    boxes = team_faces(engine, samples)
    for (subject, category, images), box in zip(PEOPLE, boxes, strict=False):
        for variant in range(images):
            buffer = io.BytesIO()
            crop(team, box, scale=2.4 + 0.3 * variant, size=224).save(buffer, format="JPEG", quality=95)
            fields = EnrolFields("custody", subject, "test", display_name=f"Person {subject}", category=category)
            app.galleries.enrol_upload(admin, fields, filename=f"{subject}-{variant}.jpg", data=buffer.getvalue())
    web = TestClient(create_app(app), base_url="https://testserver")
    return app, people, web


def _plan(app, planner, name: str, categories=None, **changes) -> str:
    now = datetime.now(UTC)
    fields = dict(
        name=name,
        grounds="wanted and missing people reported at the market",
        categories=categories or APPROVED,
        source_gallery="custody",
        location="market square",
        location_rationale="sightings this week",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
        cameras=dict(CAMERAS),
        public_notice={"signage": "signs at both entrances"},
    )
    return app.deployments.plan(planner, DeploymentPlan(**{**fields, **changes})).name


def _console(web, name: str) -> TestClient:
    return console_client(web.app, name, htmx=False)


def _events(app, action: str | None = None) -> list[AuditEvent]:
    with app.runtime.db.read() as session:
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))


def _image_ids(app, subject: str) -> list[int]:
    with app.runtime.db.read() as session:
        query = sa.select(SourceImage.id).join(Subject).where(Subject.external_id == subject).order_by(SourceImage.id)
        return list(session.scalars(query))


def _state(app) -> tuple:
    with app.runtime.db.read() as session:
        deployments = sorted(session.execute(sa.select(Deployment.name, Deployment.state, Deployment.threshold)))
        entries = session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry))
    return len([e for e in _events(app) if e.action != "refused"]), deployments, entries


def test_preview_shows_the_watchlist_by_category_the_threshold_and_cameras_without_credentials(world):
    app, people, web = world
    name = _plan(app, people[ADMIN], "preview-market")
    preview = app.deployments.preview(people[AUTHORISER], name)

    # The counts match the gallery's own make-up, as an administrator lists it (a different path in).
    listed = app.galleries.subjects(people[ADMIN], "custody")

    def make_up(category: str) -> dict:
        return {
            "people": sum(1 for s in listed if s["category"] == category),
            "images": sum(s["images"] for s in listed if s["category"] == category),
        }

    shown = {row["category"]: {"people": row["people"], "images": row["images"]} for row in preview["by_category"]}
    assert shown == {c: make_up(c) for c in APPROVED}
    assert shown == {"wanted-serious-offence": {"people": 3, "images": 4}, "missing-person": {"people": 2, "images": 2}}
    assert (preview["people"], preview["images"]) == (5, 6)
    assert preview["by_gallery"] == [{"gallery": "custody", "people": 5, "images": 6}]
    assert preview["gallery_people"] == len(listed) == 7
    left_out = {row["category"]: (row["people"], row["why"]) for row in preview["not_on_watchlist"]}
    assert left_out == {"vulnerable-person": (1, "category not approved"), None: (1, "category not approved")}

    # The threshold that would apply at this size, and the false alerts it is expected to raise there.
    card = app.runtime.engine.card
    assert preview["threshold"] == max(preview["planned_threshold"], app.deployments.live_floor(5))
    assert preview["expected_false_alerts_per_100k"] == expected_false_alerts(card, preview["threshold"], 5)
    assert preview["expected_false_alerts_per_100k"] is not None and preview["group_fmr"]

    # Cameras: scheme, host and port; never a password, user or token.
    assert preview["cameras"] == [
        {"name": "gate", "where": "rtsp://10.1.2.3:554"},
        {"name": "hall", "where": "https://10.1.2.4"},
    ]
    assert not any(secret in json.dumps(preview) for secret in SECRETS)
    assert [item["key"] for item in preview["checklist"]] == list(AUTHORISATION_CHECKLIST)
    assert preview["may_authorise"] is True
    assert app.deployments.preview(people[OPERATOR], name)["may_authorise"] is False  # figures, no decision

    # The same at the API and the command line.
    token = api_token(app, username(AUTHORISER))
    api = web.get(f"/api/deployments/{name}/preview", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.json() == json.loads(json.dumps(preview))
    env = {"OPENFR_HOME": str(app.runtime.home)}
    CliRunner().invoke(cli_app, ["login", username(AUTHORISER), "--password-stdin"], env=env, input=PASSWORD)
    cli = CliRunner().invoke(cli_app, ["deployment", "preview", name, "--json"], env=env)
    assert cli.exit_code == 0 and json.loads(cli.stdout) == json.loads(json.dumps(preview))
    table = CliRunner().invoke(cli_app, ["deployment", "preview", name], env=env)
    assert "false alerts per 100,000 faces" in table.stdout and "rtsp://10.1.2.3:554" in table.stdout

    # The console page puts it all before the Authorise button.
    page = _console(web, username(AUTHORISER)).get(f"/deployments/{name}").text
    section = page[page.index('id="authorise"') : page.index("Authorise preview-market")]
    assert "<td>wanted-serious-offence</td><td>3</td><td>4</td>" in section
    assert "<td>missing-person</td><td>2</td><td>2</td>" in section
    rate = f"about {preview['expected_false_alerts_per_100k']:.1f} per 100,000 faces"
    assert f"Threshold <b>{preview['threshold']:.3f}</b>" in section and rate in section
    assert "<td>rtsp://10.1.2.3:554</td>" in section and "<td>https://10.1.2.4</td>" in section
    assert len(re.findall(r'name="checklist" value="\w+" required', section)) == len(AUTHORISATION_CHECKLIST)
    assert f'href="/deployments/{name}/watchlist"' in section
    assert not any(secret in page for secret in SECRETS)
    operator_page = _console(web, username(OPERATOR)).get(f"/deployments/{name}").text
    assert "<td>wanted-serious-offence</td><td>3</td><td>4</td>" in operator_page
    assert 'name="checklist"' not in operator_page and "/watchlist" not in operator_page
    with pytest.raises(PermissionDeniedError):
        app.deployments.preview(people[Role.OFFICER], name)


def test_the_authoriser_pages_this_plans_faces_only_each_look_recorded_and_no_gallery(world):
    app, people, web = world
    name = _plan(app, people[ADMIN], "faces-market")
    other = _plan(app, people[ADMIN], "faces-elsewhere", categories=["vulnerable-person"])
    officer = people[AUTHORISER]

    before = len(_events(app, "deployment.watchlist.view"))
    pages = [app.deployments.watchlist_faces(officer, name, offset=o, limit=2) for o in (0, 2, 4)]
    assert [len(p["people"]) for p in pages] == [2, 2, 1] and {p["total"] for p in pages} == {5}
    seen = [person["subject"] for p in pages for person in p["people"]]
    assert seen == ["p0", "p1", "p2", "p3", "p4"]  # every approved person once, nobody else
    assert pages[0]["people"][0]["images"] == _image_ids(app, "p0") and len(_image_ids(app, "p0")) == 2
    views = _events(app, "deployment.watchlist.view")[before:]
    assert [(e.actor, e.resource, e.details["offset"], e.details["shown"]) for e in views] == [
        (username(AUTHORISER), f"deployment:{name}", 0, 2),
        (username(AUTHORISER), f"deployment:{name}", 2, 2),
        (username(AUTHORISER), f"deployment:{name}", 4, 1),
    ]

    # Each image: served for this plan's people only, and each look recorded with whose image it was.
    image = _image_ids(app, "p3")[0]
    before = len(_events(app))
    assert app.deployments.watchlist_face(officer, name, image).is_file()
    looked = _events(app)[before:]
    assert [(e.action, e.details) for e in looked] == [
        ("deployment.watchlist.image.view", {"image": image, "subject": "p3"})
    ]
    before = len(_events(app))
    for stranger in ("p5", "p6"):  # in the gallery, not on this plan's watchlist
        with pytest.raises(NotFoundError):
            app.deployments.watchlist_face(officer, name, _image_ids(app, stranger)[0])
    with pytest.raises(NotFoundError):  # on another plan's watchlist is not on this one
        app.deployments.watchlist_face(officer, other, image)
    assert app.deployments.watchlist_face(officer, other, _image_ids(app, "p5")[0]).is_file()
    assert len(_events(app)) == before + 1

    # Who may look: the officer who may authorise this plan; not its planner, not other roles.
    own = _plan(app, officer, "faces-own")
    before = len(_events(app))
    with pytest.raises(PermissionDeniedError, match="other than the one who created it"):
        app.deployments.watchlist_faces(officer, own)
    with pytest.raises(PermissionDeniedError):
        app.deployments.watchlist_face(officer, own, image)
    for role in (ADMIN, OPERATOR, Role.AUDITOR, Role.INVESTIGATOR):
        with pytest.raises(PermissionDeniedError):
            app.deployments.watchlist_faces(people[role], name)
    refused = _events(app)[before:]  # nothing looked at: only the refusals are on record, each of them
    assert [e.action for e in refused] == ["refused"] * 6 and refused[0].actor == username(AUTHORISER)

    # In the console: the page of faces and its thumbnails, never cached, one recorded look naming whose
    # faces it shows (the images come with the page's grants); galleries stay closed to the authorising officer.
    console = _console(web, username(AUTHORISER))
    before = len(_events(app))
    page = console.get(f"/deployments/{name}/watchlist")
    assert page.status_code == 200 and "People 1–5 of 5" in page.text
    sources = [
        html.unescape(s) for s in re.findall(rf'src="(/deployments/{name}/watchlist/\d+\?grant=[^"]+)"', page.text)
    ]
    assert len(sources) == 6  # p0's two images and one each of the others
    for src in sources:
        answer = console.get(src)
        assert answer.status_code == 200 and "no-store" in answer.headers["cache-control"]
        assert answer.headers["content-type"].startswith("image/")
    (viewed,) = _events(app)[before:]
    assert viewed.action == "deployment.watchlist.view" and viewed.details["subjects"] == ["p0", "p1", "p2", "p3", "p4"]
    assert console.get(f"/deployments/{name}/watchlist/{_image_ids(app, 'p5')[0]}").status_code == 404
    assert console.get("/galleries").status_code == 403 and console.get("/galleries/custody").status_code == 403
    token = api_token(app, username(AUTHORISER))
    bearer = {"Authorization": f"Bearer {token}"}
    assert web.get("/api/galleries", headers=bearer).status_code == 403
    assert web.get(f"/api/deployments/{name}/watchlist", headers=bearer, params={"limit": 3}).json()["total"] == 5
    assert web.get(f"/api/deployments/{name}/watchlist/{image}", headers=bearer).status_code == 200

    # Once authorised, the plan's faces are no longer offered this way (its snapshot is the record).
    app.deployments.authorise(officer, name, "ok", CONFIRMED)
    with pytest.raises(ConflictError):
        app.deployments.watchlist_faces(officer, name)


def test_authorising_needs_the_whole_checklist_at_every_door_and_records_it(world):
    app, people, web = world
    officer = people[AUTHORISER]
    names = {door: _plan(app, people[ADMIN], f"checklist-{door}") for door in ("service", "api", "console", "cli")}
    token = api_token(app, username(AUTHORISER))
    bearer = {"Authorization": f"Bearer {token}"}
    console = _console(web, username(AUTHORISER))
    env = {"OPENFR_HOME": str(app.runtime.home)}
    CliRunner().invoke(cli_app, ["login", username(AUTHORISER), "--password-stdin"], env=env, input=PASSWORD)
    three = {k: True for k in list(AUTHORISATION_CHECKLIST)[:3]}
    missing = list(AUTHORISATION_CHECKLIST)[3]

    before = _state(app)
    for answers in (None, {}, three, {**CONFIRMED, missing: False}, {**CONFIRMED, "vibes": True}):
        with pytest.raises(BadInputError, match="checklist"):
            app.deployments.authorise(officer, names["service"], "ok", answers)
    for body in ({"note": "ok"}, {"note": "ok", "checklist": three}, {"checklist": {**CONFIRMED, missing: False}}):
        answer = web.post(f"/api/deployments/{names['api']}/authorise", json=body, headers=bearer)
        assert answer.status_code == 400 and "checklist" in answer.json()["detail"]
    assert f"not confirmed: {missing}" in answer.json()["detail"]
    form = {"csrftoken": console.csrf, "note": "ok", "checklist": list(three)}
    page = console.post(f"/deployments/{names['console']}/authorise", data=form, follow_redirects=False)
    assert page.status_code == 400 and f"not confirmed: {missing}" in page.text
    for key in three:  # what was ticked stays ticked; the missing box is still to tick
        assert f'value="{key}" required checked' in page.text
    assert f'value="{missing}" required>' in page.text
    cli = CliRunner().invoke(cli_app, ["deployment", "authorise", names["cli"], "--confirm", "necessity"], env=env)
    assert cli.exit_code == 2 and "checklist" in cli.output
    assert _state(app) == before  # nothing authorised, no snapshot, no event but the refusals
    refusals = [e for e in _events(app, "refused") if e.actor == username(AUTHORISER)]
    assert sum("checklist" in e.reason for e in refusals) >= 9  # every missing answer, at every door

    # With it: authorised, and the statements confirmed are in the decision's audit event.
    app.deployments.authorise(officer, names["service"], "ok", CONFIRMED)
    answer = web.post(
        f"/api/deployments/{names['api']}/authorise", json={"note": "ok", "checklist": CONFIRMED}, headers=bearer
    )
    assert answer.status_code == 200 and answer.json()["state"] == "authorised"
    form = {"csrftoken": console.csrf, "note": "ok", "checklist": list(AUTHORISATION_CHECKLIST)}
    done = console.post(f"/deployments/{names['console']}/authorise", data=form, follow_redirects=False)
    assert done.status_code == 303
    confirm = [arg for key in AUTHORISATION_CHECKLIST for arg in ("--confirm", key)]
    cli = CliRunner().invoke(cli_app, ["deployment", "authorise", names["cli"], *confirm], env=env)
    assert cli.exit_code == 0, cli.output
    decisions = {e.resource: e for e in _events(app, "deployment.authorise")}
    for name in names.values():
        event = decisions[f"deployment:{name}"]
        assert event.actor == username(AUTHORISER) and event.details["checklist"] == AUTHORISATION_CHECKLIST
    with app.runtime.db.read() as session:
        states = set(session.scalars(sa.select(Deployment.state).where(Deployment.name.in_(list(names.values())))))
    assert states == {"authorised"}


def test_the_dashboard_lists_plans_awaiting_another_authoriser_never_the_planners_own(world):
    app, people, web = world
    own = _plan(app, people[AUTHORISER], "card-own")  # planned by the first authorising officer
    theirs = _plan(app, people[ADMIN], "card-admin")
    ended = _plan(app, people[ADMIN], "card-ended")
    with app.runtime.db.transaction() as session:  # its window went by without anyone authorising it
        past = {"starts_at": datetime.now(UTC) - timedelta(hours=3), "ends_at": datetime.now(UTC) - timedelta(hours=1)}
        session.execute(sa.update(Deployment).where(Deployment.name == ended).values(**past))

    def awaiting(who) -> set[str]:
        return {d.name for d in app.deployments.awaiting_authorisation(who)}

    assert theirs in awaiting(people[AUTHORISER]) and own not in awaiting(people[AUTHORISER])
    assert {own, theirs} <= awaiting(people["other"]) and ended not in awaiting(people["other"])
    with pytest.raises(PermissionDeniedError):
        app.deployments.awaiting_authorisation(people[ADMIN])
    late = app.deployments.preview(people["other"], ended)
    assert late["window_ended"] is True and late["may_authorise"] is False  # no checklist offered for it

    def card(name: str) -> str:
        page = _console(web, name).get("/").text
        match = re.search(r'<section class="card awaiting.*?</section>', page, re.S)
        return match.group(0) if match else ""

    first, second = card(username(AUTHORISER)), card(OTHER_AUTHORISER)
    assert f'href="/deployments/{theirs}#authorise"' in first and f"/deployments/{own}#" not in first
    assert f'href="/deployments/{own}#authorise"' in second and f'href="/deployments/{theirs}#authorise"' in second
    assert "awaiting your authorisation" in first and f"/deployments/{ended}#" not in second
    assert card(username(OPERATOR)) == "" and card(username(ADMIN)) == ""
    app.deployments.authorise(people["other"], own, "ok", CONFIRMED)
    assert f"/deployments/{own}#" not in card(OTHER_AUTHORISER)  # decided: off the card


def test_preview_faces_and_checklist_on_sqlite_and_postgresql(tmp_path, sample_paths, database_url):
    """The queries behind the preview and the faces page (grouped counts, a page of people) on both stores."""
    app = make_app(tmp_path / "home", database_url)
    people = staff(app)
    app.galleries.create(people[ADMIN], "custody", "test custody images", ["rfr", "live"])
    photo = sample_paths["yaoming"].read_bytes()
    for subject, category in (("yao", "wanted-serious-offence"), ("kept-out", "vulnerable-person")):
        fields = EnrolFields("custody", subject, "test", category=category)
        app.galleries.enrol_upload(people[ADMIN], fields, filename="y.jpg", data=photo)
    name = _plan(app, people[ADMIN], "both-stores")
    preview = app.deployments.preview(people[AUTHORISER], name)
    assert [(r["category"], r["people"], r["images"]) for r in preview["by_category"]] == [
        ("wanted-serious-offence", 1, 1),
        ("missing-person", 0, 0),
    ]
    left_out = [(r["category"], r["people"], r["why"]) for r in preview["not_on_watchlist"]]
    assert left_out == [("vulnerable-person", 1, "category not approved")]
    faces = app.deployments.watchlist_faces(people[AUTHORISER], name)
    assert [(p["subject"], len(p["images"])) for p in faces["people"]] == [("yao", 1)] and faces["total"] == 1
    assert app.deployments.watchlist_face(people[AUTHORISER], name, faces["people"][0]["images"][0]).is_file()
    with pytest.raises(BadInputError, match="checklist"):
        app.deployments.authorise(people[AUTHORISER], name, "ok")
    assert app.deployments.authorise(people[AUTHORISER], name, "ok", CONFIRMED).state == "authorised"
    assert [e.details["checklist"] for e in _events(app, "deployment.authorise")] == [AUTHORISATION_CHECKLIST]
    assert {d.name for d in app.deployments.awaiting_authorisation(people[AUTHORISER])} == set()


# -- in a real browser (Debian's Chromium), at desktop and phone size ------------------------------------------

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 412, "height": 915}, "is_mobile": True, "color_scheme": "dark"},
}


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """A real server over the demo's gallery and accounts, with one plan per viewport awaiting authorisation."""
    from openfr.services import demo
    from web_server import running_console

    app = make_app(tmp_path_factory.mktemp("authoriser-console"))
    demo_installation(app, password=PASSWORD, deployment=False)
    planner = app.accounts.sign_in("demo-admin", PASSWORD, None, TokenKind.CLI).principal
    for viewport in VIEWPORTS:
        _plan(app, planner, f"{viewport}-plan", categories=["wanted-serious-offence"], source_gallery=demo.GALLERY)
    with running_console(app) as base:
        yield app, base


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_an_authorising_officer_reviews_and_authorises_from_the_dashboard_card(console, chromium, viewport):
    from playwright.sync_api import expect

    app, base = console
    name = f"{viewport}-plan"
    page = chromium.signed_in(base, "demo-authoriser", PASSWORD, **VIEWPORTS[viewport])
    problems = {}

    card = page.locator("section.card.awaiting")
    expect(card).to_contain_text("awaiting your authorisation")
    problems["dashboard"] = serious(page)
    shot(page, f"authoriser-dashboard-{viewport}")
    card.get_by_role("link", name=f"Review plan {name}").click()
    expect(page.locator("h1")).to_contain_text(name)

    # The facts before the button: who would be watched for, the threshold and its false alerts, cameras.
    section = page.locator("#authorise")
    expect(section.get_by_role("row", name="wanted-serious-offence 1 1")).to_be_visible()
    expect(section).to_contain_text("per 100,000 faces")
    expect(section).to_contain_text("Threshold 0.")
    expect(section.get_by_role("cell", name="rtsp://10.1.2.3:554")).to_be_visible()
    assert not any(secret in page.content() for secret in SECRETS)
    problems["plan"] = serious(page)
    shot(page, f"authoriser-plan-{viewport}")

    # The faces, on demand: each image loads, and the look is on record (the page, naming whose faces it shows).
    before = len(_events(app, "deployment.watchlist.view"))
    section.get_by_role("link", name="See their faces (1 person)").click()
    image = page.locator(".watchlist-faces img").first
    expect(image).to_be_visible()
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    views = _events(app, "deployment.watchlist.view")[before:]
    assert len(views) == 1 and len(views[0].details["subjects"]) == 1
    problems["faces"] = serious(page)
    shot(page, f"authoriser-faces-{viewport}")
    if viewport == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 412, "the faces page scrolls sideways"
    page.get_by_role("link", name=f"Back to the plan {name}").click()

    # The checklist is required: without it the browser does not send the decision.
    button = page.get_by_role("button", name=f"Authorise {name}")
    button.click()
    expect(page.locator("h1 .state").first).to_have_text("draft")
    if viewport == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 412, "the plan page scrolls sideways"
    for box in page.locator("input[name=checklist]").all():
        box.check()
    page.fill("input[name=note]", "Necessary and proportionate; signage checked on site.")
    button.click()
    expect(page.locator("[role=status]")).to_contain_text("Authorised")
    expect(page.locator("h1 .state").first).to_have_text("authorised")
    event = [e for e in _events(app, "deployment.authorise") if e.resource == f"deployment:{name}"]
    assert len(event) == 1 and event[0].details["checklist"] == AUTHORISATION_CHECKLIST
    assert {k: v for k, v in problems.items() if v} == {}
