"""No data traps (issue 15, item 3): a subject exists only with an enrolled image (and a migration removes the
old empty ones), a gallery is created in its own step and a mistyped one is a 404, audit filters say what is
wrong with them and "until" a day includes it, the audit list says "of N" and pages, and disabling a user,
deleting a subject or revoking a token ask for a reason and a confirmation at every door."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from actors import PASSWORD, add_user, api_token, console_sign_in, make_app, sign_in, staff, username
from openfr.cli import app as cli_app
from openfr.errors import BadInputError, ConflictError, EnrolmentRejectedError, NotFoundError
from openfr.governance import audit, events
from openfr.governance.permissions import Role
from openfr.services.galleries import EnrolFields
from openfr.store import AuditEvent, Gallery, SourceImage, Subject, Template, User
from openfr.store.db import alembic_config
from openfr.web.app import create_app

ADMIN, AUDITOR = Role.ADMINISTRATOR, Role.AUDITOR


def _grey(shade: int) -> bytes:
    """A readable image with no face in it (each shade a different file)."""
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (shade, shade, shade)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample_paths):
    """An application with a 'custody' gallery holding Yao, consoles and API tokens for the administrator and
    the auditor, and three accounts to disable (one per door)."""
    home = tmp_path_factory.mktemp("traps") / "home"
    app = make_app(home)
    people = staff(app)
    admin = people[ADMIN]
    app.galleries.create(admin, "custody", "custody images under PACE s.64A (test)")
    photo = sample_paths["yaoming"].read_bytes()
    app.galleries.enrol_upload(admin, EnrolFields("custody", "yao", "test"), filename="y.jpg", data=photo)
    for name in ("leaver-console", "leaver-api", "leaver-cli"):
        add_user(app, admin, name, "operator")
    web = TestClient(create_app(app), base_url="https://testserver")
    consoles = {}
    for role in (ADMIN, AUDITOR):
        client = TestClient(web.app, base_url="https://testserver")
        client.csrf = console_sign_in(client, username(role))
        client.headers["x-csrftoken"] = client.csrf
        consoles[role] = client
    tokens = {role: api_token(app, username(role)) for role in (ADMIN, AUDITOR)}
    return app, people, web, consoles, tokens, photo


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _count(app, model, *where) -> int:
    with app.runtime.db.read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def _cli(app, *args: str):
    env = {"OPENFR_HOME": str(app.runtime.home), "OPENFR_ENGINE__WORKERS": "1"}
    return CliRunner().invoke(cli_app, list(args), env=env, input=PASSWORD + "\n")


def _cli_as(app, role: Role) -> None:
    assert _cli(app, "login", username(role), "--password-stdin").exit_code == 0


# -- a subject exists only with an enrolled image ---------------------------------------------------------------


def test_a_folder_import_creates_no_subject_whose_every_image_was_rejected(database_url, tmp_path, sample_paths):
    app = make_app(tmp_path / "home", database_url)
    admin = staff(app)[ADMIN]
    app.galleries.create(admin, "custody", "test")
    folder = tmp_path / "incoming"
    files = {"GOOD/1.jpg": sample_paths["yaoming"].read_bytes(), "BLANK/1.png": _grey(90), "BLANK/2.png": _grey(95)}
    files |= {"MIXED/1.png": _grey(100), "MIXED/2.jpg": sample_paths["yaoming"].read_bytes()}  # rejected first
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    report = app.galleries.enrol_folder(admin, "custody", folder)
    assert (report.enrolled, len(report.rejected)) == (2, 3)
    assert {r.split("/")[-2] for r, _ in report.rejected} == {"BLANK", "MIXED"}
    with app.runtime.db.read() as session:
        assert set(session.scalars(sa.select(Subject.external_id))) == {"GOOD", "MIXED"}  # no BLANK
        mixed = session.scalars(
            sa.select(SourceImage.status).join(Subject).where(Subject.external_id == "MIXED").order_by(SourceImage.id)
        ).all()
    assert sorted(mixed) == ["enrolled", "rejected"]  # the subject exists: its rejection is kept, with the reason
    again = app.galleries.enrol_folder(admin, "custody", folder)  # BLANK's images were never recorded: seen again
    assert (again.already, again.enrolled, len(again.rejected)) == (3, 0, 2)
    assert _count(app, Subject) == 2
    app.close()


def test_a_rejected_upload_keeps_no_subject(site):
    app, people, *_ = site
    before = _count(app, Subject)
    fields = EnrolFields("custody", "NO-FACE-1", "test", display_name="Somebody")
    with pytest.raises(EnrolmentRejectedError, match="no face"):
        app.galleries.enrol_upload(people[ADMIN], fields, filename="x.png", data=_grey(120))
    assert _count(app, Subject) == before and _count(app, Subject, Subject.external_id == "NO-FACE-1") == 0


def test_migration_0013_deletes_the_subjects_that_have_no_enrolled_image(database_url):
    """A store at 0012 with subjects made the old way (a failed enrolment left the subject), upgraded."""
    engine = sa.create_engine(database_url)
    _upgrade(engine, database_url, "0012")
    tables = sa.MetaData()
    tables.reflect(engine, only=["galleries", "subjects", "source_images", "templates"])
    galleries, subjects = tables.tables["galleries"], tables.tables["subjects"]
    images, templates = tables.tables["source_images"], tables.tables["templates"]
    now = datetime.now(UTC)
    with engine.begin() as connection:
        insert = connection.execute
        gallery = insert(galleries.insert().values(
            name="custody", kind="gallery", purpose="", space="buffalo_s@x", created_by="old", created_at=now,
        )).inserted_primary_key[0]  # fmt: skip
        ids = {}
        for ref in ("empty", "rejected-only", "enrolled", "mixed"):
            ids[ref] = insert(subjects.insert().values(
                gallery_id=gallery, external_id=ref, category="wanted-serious-offence", created_at=now,
            )).inserted_primary_key[0]  # fmt: skip

        def image(ref: str, sha: str, status: str) -> int:
            return insert(images.insert().values(
                subject_id=ids[ref], sha256=sha * 64, original_name=f"{ref}.jpg", provenance="old",
                status=status, stored_path=f"images/{sha}.jpg" if status == "enrolled" else None,
                reject_reason="no face found" if status == "rejected" else None, imported_at=now,
            )).inserted_primary_key[0]  # fmt: skip

        image("rejected-only", "a", "rejected")
        for ref, sha in (("enrolled", "b"), ("mixed", "c")):
            insert(templates.insert().values(
                image_id=image(ref, sha, "enrolled"), subject_id=ids[ref], gallery_id=gallery, space="buffalo_s@x",
                dim=4, vector=b"\0" * 16, created_at=now,
            ))  # fmt: skip
        image("mixed", "d", "rejected")
    _upgrade(engine, database_url, "head")
    with engine.connect() as connection:
        left = set(connection.scalars(sa.select(subjects.c.external_id)))
        statuses = sorted(connection.scalars(sa.select(images.c.status)))
        kept_templates = connection.scalar(sa.select(sa.func.count()).select_from(templates))
    engine.dispose()
    assert left == {"enrolled", "mixed"}
    assert statuses == ["enrolled", "enrolled", "rejected"]  # mixed's rejection stays; rejected-only's is gone
    assert kept_templates == 2


def _upgrade(engine, url: str, revision: str) -> None:
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


# -- galleries: chosen from a list, created in their own step ---------------------------------------------------


def test_a_gallery_is_created_in_its_own_step_with_a_purpose_that_is_recorded(site):
    app, people, web, consoles, tokens, _ = site
    admin = people[ADMIN]
    with pytest.raises(BadInputError, match="purpose"):
        app.galleries.create(admin, "cases-2026", "  ")
    with pytest.raises(ConflictError, match="exists already"):
        app.galleries.create(admin, "custody", "again")
    row = app.galleries.create(admin, "cases-2026", "case material for retrospective searches")
    assert row["name"] == "cases-2026" and row["subjects"] == 0
    with app.runtime.db.read() as session:
        stored = session.scalars(sa.select(Gallery).where(Gallery.name == "cases-2026")).one()
        event = audit.events(session, action="gallery.create", resource="gallery:cases-2026")[-1]
    assert stored.purpose == "case material for retrospective searches" and stored.created_by == "administrator"
    assert event["actor"] == "administrator" and event["reason"] == stored.purpose
    made = web.post("/api/galleries", json={"name": "api-made", "purpose": "test"}, headers=_bearer(tokens[ADMIN]))
    assert made.status_code == 201 and made.json()["name"] == "api-made"
    refused = web.post("/api/galleries", json={"name": "no-purpose", "purpose": ""}, headers=_bearer(tokens[ADMIN]))
    assert refused.status_code == 400 and "purpose" in refused.json()["detail"]
    page = consoles[ADMIN].post("/galleries", data={"name": "console-made", "purpose": "test"})
    assert page.status_code == 201 and "Created gallery console-made" in page.text
    _cli_as(app, ADMIN)
    done = _cli(app, "gallery", "create", "cli-made", "--purpose", "test")
    assert done.exit_code == 0, done.output
    names = {g["name"] for g in app.galleries.list(admin)}
    assert {"api-made", "console-made", "cli-made"} <= names and "no-purpose" not in names


def test_enrolling_into_a_mistyped_gallery_is_a_404_that_creates_nothing_at_any_door(site, tmp_path):
    app, people, web, consoles, tokens, photo = site
    galleries_before, subjects_before = _count(app, Gallery), _count(app, Subject)
    with pytest.raises(NotFoundError, match="no gallery named 'custdoy': create it first"):
        app.galleries.enrol_upload(people[ADMIN], EnrolFields("custdoy", "T-1", "test"), filename="y.jpg", data=photo)
    upload = {"image": ("y.jpg", photo, "image/jpeg")}
    api = web.post(
        "/api/galleries/custdoy/enrol", data={"subject": "T-1", "source": "test"}, files=upload,
        headers=_bearer(tokens[ADMIN]),
    )  # fmt: skip
    assert api.status_code == 404 and "create it first" in api.json()["detail"]
    form = {"gallery": "custdoy", "subject": "T-1", "source": "test"}
    page = consoles[ADMIN].post("/enrol", data=form, files=upload)
    assert page.status_code == 404 and "no gallery named &#39;custdoy&#39;: create it first" in page.text
    (tmp_path / "dir" / "T-1").mkdir(parents=True)
    (tmp_path / "dir" / "T-1" / "1.jpg").write_bytes(photo)
    _cli_as(app, ADMIN)
    cli = _cli(app, "gallery", "import", "custdoy", str(tmp_path / "dir"))
    assert cli.exit_code == 2 and "create it first" in cli.output
    assert (_count(app, Gallery), _count(app, Subject)) == (galleries_before, subjects_before)
    # The console offers the galleries that exist, to choose from: there is no field to type a name into.
    listing = consoles[ADMIN].get("/galleries").text
    choice = re.search(r'<select name="gallery"[^>]*>(.*?)</select>', listing, re.S)
    assert choice is not None and re.search(r"<option[^>]*>custody</option>", choice.group(1))
    assert "custdoy" not in choice.group(1) and not re.search(r'<input[^>]*name="gallery"', listing)


# -- audit filters and paging -----------------------------------------------------------------------------------


def test_an_audit_filter_that_cannot_be_read_is_a_400_that_says_why(site):
    app, people, web, consoles, tokens, _ = site
    auditor = consoles[AUDITOR]
    page = auditor.get("/audit", params={"since": "last tuesday"})
    assert page.status_code == 400 and "since: &#39;last tuesday&#39; is not a date or time" in page.text
    assert "No events match" not in page.text
    api = web.get("/api/audit/events", params={"until": "last tuesday"}, headers=_bearer(tokens[AUDITOR]))
    assert api.status_code == 400 and "until: 'last tuesday' is not a date or time" in api.json()["detail"]
    backwards = auditor.get("/audit", params={"since": "2026-11-29", "until": "2026-11-22"})
    assert backwards.status_code == 400 and "must be before until" in backwards.text
    for bad in ("abc", "0", "-1"):
        assert auditor.get("/audit", params={"page": bad}).status_code == 400
    with pytest.raises(BadInputError, match="not a date"):
        app.audit.events(people[AUDITOR], since="2026-13-45")


def test_until_a_date_includes_that_whole_day(site):
    app, people, web, consoles, tokens, _ = site
    newest = app.audit.head(people[AUDITOR])
    day = newest["at"][:10]  # the day of the newest event (not "today": the test may cross midnight)
    rows = app.audit.events(people[AUDITOR], since=day, until=day, limit=5000)
    assert rows and rows[-1]["id"] == newest["events"]
    api = web.get("/api/audit/events", params={"until": day, "limit": 5000}, headers=_bearer(tokens[AUDITOR]))
    assert api.status_code == 200 and api.json()[-1]["id"] == newest["events"]
    page = consoles[AUDITOR].get("/audit", params={"since": day, "until": day})
    assert page.status_code == 200 and f"<td>{newest['events']}</td>" in page.text
    # A time stops just before it; a time in another zone means the same instant in UTC.
    assert app.audit.events(people[AUDITOR], until=f"{day}T00:00") == app.audit.events(
        people[AUDITOR], until=f"{day}T01:00+01:00"
    )


def test_the_audit_list_says_how_many_match_and_pages_through_them(site):
    app, _, web, consoles, tokens, _ = site
    with app.runtime.db.transaction() as session:
        for n in range(520):
            audit.record(session, "paging-test", events.AlertPurge(count=1, kept_outcomes=[]), f"item:{n}")
    auditor = consoles[AUDITOR]
    first = auditor.get("/audit", params={"action": "alert.purge"})
    assert first.status_code == 200 and "Showing 1-500 of 520 events matching the filter" in first.text
    assert 'href="/audit?page=2&amp;action=alert.purge"' in first.text
    second = auditor.get("/audit", params={"action": "alert.purge", "page": 2})
    assert "Showing 501-520 of 520 events" in second.text
    assert "item:19<" in second.text and "item:20<" not in second.text  # newest first: the oldest twenty last
    past = auditor.get("/audit", params={"action": "alert.purge", "page": 3})
    assert past.status_code == 400 and "past the last of the 520 matching event(s)" in past.text
    headers = _bearer(tokens[AUDITOR])
    api = web.get("/api/audit/events", params={"action": "alert.purge", "offset": 500, "limit": 100}, headers=headers)
    assert api.status_code == 200 and api.headers["x-total-count"] == "520" and len(api.json()) == 20
    for offset, code in ((520, 400), (-1, 422)):  # past the end (the service says so); below 0 (the bounds)
        bad = web.get("/api/audit/events", params={"action": "alert.purge", "offset": offset}, headers=headers)
        assert bad.status_code == code


# -- destructive actions: a reason and a confirmation -----------------------------------------------------------


def _active(app, name: str) -> bool:
    with app.runtime.db.read() as session:
        return session.scalars(sa.select(User.active).where(User.username == name)).one()


def _disabled_with(app, name: str) -> list[str]:
    with app.runtime.db.read() as session:
        return [e["reason"] for e in audit.events(session, action="user.disable", resource=f"user:{name}")]


def test_disabling_a_user_needs_a_reason_and_a_confirmation_at_every_door(site):
    app, people, web, consoles, tokens, _ = site
    with pytest.raises(BadInputError, match="say why"):
        app.staff.set_active(people[ADMIN], "leaver-console", False)
    assert _active(app, "leaver-console") and _disabled_with(app, "leaver-console") == []

    admin = consoles[ADMIN]
    users = admin.get("/users").text
    labels = re.findall(r'<button[^>]*aria-label="([^"]+)"', users)
    assert "Disable leaver-console" in labels and len(labels) == len(set(labels))  # each button its own name
    asked = admin.post("/users/leaver-console/active", data={"active": "false"})
    assert asked.status_code == 200 and "Disable leaver-console?" in asked.text
    assert '<button type="submit" class="reject">Disable leaver-console</button>' in asked.text
    assert 'name="confirm" value="yes"' in asked.text and _active(app, "leaver-console")
    no_reason = admin.post("/users/leaver-console/active", data={"active": "false", "confirm": "yes"})
    assert no_reason.status_code == 400 and "Disable leaver-console?" in no_reason.text  # asked again
    assert _active(app, "leaver-console")
    done = admin.post("/users/leaver-console/active", data={"active": "false", "confirm": "yes", "reason": "left"})
    assert done.status_code == 200 and "leaver-console disabled" in done.text
    assert not _active(app, "leaver-console") and _disabled_with(app, "leaver-console") == ["left"]

    headers = _bearer(tokens[ADMIN])
    refused = web.post("/api/users/leaver-api/active", json={"active": False}, headers=headers)
    assert refused.status_code == 400 and _active(app, "leaver-api")
    done = web.post("/api/users/leaver-api/active", json={"active": False, "reason": "suspended"}, headers=headers)
    assert done.status_code == 200 and _disabled_with(app, "leaver-api") == ["suspended"]

    _cli_as(app, ADMIN)
    assert "say why" in _cli(app, "user", "disable", "leaver-cli").output
    unconfirmed = _cli(app, "user", "disable", "leaver-cli", "--reason", "left the force")
    assert unconfirmed.exit_code == 2 and "add --yes" in unconfirmed.output and _active(app, "leaver-cli")
    done = _cli(app, "user", "disable", "leaver-cli", "--reason", "left the force", "--yes")
    assert done.exit_code == 0, done.output
    assert not _active(app, "leaver-cli") and _disabled_with(app, "leaver-cli") == ["left the force"]


def test_deleting_a_subject_and_revoking_a_token_ask_to_confirm_first(site):
    app, people, web, consoles, _, photo = site
    admin = consoles[ADMIN]
    app.galleries.enrol_upload(people[ADMIN], EnrolFields("custody", "GONE-2", "test"), filename="y.jpg", data=photo)
    asked = admin.post("/galleries/custody/subjects/GONE-2/delete", data={"reason": "acquitted"})
    assert asked.status_code == 200 and "Delete GONE-2 from custody?" in asked.text
    assert "1 image record(s) and 1 template(s)" in asked.text
    assert _count(app, Subject, Subject.external_id == "GONE-2") == 1
    done = admin.post("/galleries/custody/subjects/GONE-2/delete", data={"reason": "acquitted", "confirm": "yes"})
    assert done.status_code == 200 and _count(app, Subject, Subject.external_id == "GONE-2") == 0
    assert _count(app, Template) == _count(app, SourceImage, SourceImage.status == "enrolled")

    made = app.accounts.issue_own_token(sign_in(app, "auditor"), "to revoke", "read", 1, password=PASSWORD)
    token, token_id = made["token"], made["id"]
    assert any(t["id"] == token_id for t in app.staff.tokens(people[ADMIN], "auditor"))
    path = f"/users/auditor/tokens/{token_id}/revoke"
    asked = admin.post(path, data={"reason": "leaked"})
    assert asked.status_code == 200 and f"Revoke API token {token_id} of auditor?" in asked.text
    assert web.get("/api/audit/verify", headers=_bearer(token)).status_code == 200  # still live
    done = admin.post(path, data={"reason": "leaked", "confirm": "yes"})
    assert done.status_code == 200 and web.get("/api/audit/verify", headers=_bearer(token)).status_code == 401
    with app.runtime.db.read() as session:
        assert audit.events(session, action="token.revoke")[-1]["reason"] == "leaked"
    assert _count(app, AuditEvent, AuditEvent.action == "subject.delete") == 1


def test_signed_in_people_without_the_permission_get_no_confirmation_page(site):
    app, *_ = site
    other = TestClient(create_app(app), base_url="https://testserver")
    other.headers["x-csrftoken"] = console_sign_in(other, username(Role.INVESTIGATOR))
    assert other.post("/users/leaver-api/active", data={"active": "false"}).status_code == 403
    assert other.post("/galleries/custody/subjects/yao/delete", data={"reason": "x"}).status_code == 403


# -- in a real browser: the two steps, and axe on the pages the crawl of test_accessibility cannot reach ---------


@pytest.fixture(scope="module")
def browser_site(tmp_path_factory):
    from actors import demo_console

    with demo_console(tmp_path_factory.mktemp("traps-browser")) as (_app, base):
        yield base


def test_the_confirmation_steps_and_filter_errors_work_in_a_browser_and_meet_wcag(browser_site, chromium):
    from playwright.sync_api import expect

    from actors import PASSWORD
    from browsers import serious

    for context in ({}, {"viewport": {"width": 412, "height": 915}, "color_scheme": "dark"}):
        admin = chromium.signed_in(browser_site, "demo-admin", PASSWORD, **context)
        target = "demo-officer" if not context else "demo-operator"
        admin.goto("/users")
        admin.get_by_role("button", name=f"Disable {target}").click()
        expect(admin.locator("h1")).to_have_text(f"Disable {target}?")
        assert serious(admin) == []
        admin.get_by_role("button", name=f"Disable {target}").click()  # no reason: the form does not go
        expect(admin.locator("h1")).to_have_text(f"Disable {target}?")
        admin.get_by_label("Reason (required; recorded in the audit trail)").fill("left the force")
        admin.get_by_role("button", name=f"Disable {target}").click()
        expect(admin.locator("[role=status]")).to_contain_text(f"{target} disabled")
        admin.goto("/galleries")
        admin.fill("form[action='/galleries'] input[name=name]", "demo-watchlist")  # exists: refused, kept
        admin.fill("form[action='/galleries'] textarea[name=purpose]", "a second one by mistake")
        admin.click("form[action='/galleries'] button[type=submit]")
        expect(admin.locator("[role=alert]")).to_contain_text("exists already")
        assert serious(admin) == []
        auditor = chromium.signed_in(browser_site, "demo-auditor", PASSWORD, **context)
        auditor.goto("/audit?since=last+tuesday")
        expect(auditor.locator("[role=alert]")).to_contain_text("'last tuesday' is not a date")
        assert serious(auditor) == []
        auditor.goto("/audit?until=2000-01-01")
        expect(auditor.locator(".listing-count")).to_have_text(
            "Showing 0 of 0 events matching the filter, newest first."
        )
