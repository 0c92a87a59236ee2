"""Issue 21: every act has one true actor, and each mode has its own door.

Each test reproduces a finding of the attack on main 8b08a0d (it fails there) and checks what closes it:
an administrator made a token for an authorising officer and authorised their own plan with it (finding 1);
a second administrator's "enable" took over a pending approval, which the creator then approved (4); the
general search ran operator-initiated searches without grounds, and officers ran retrospective ones (3, 12);
refusals, ranks and deployment windows left no record or had no bounds (12).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from actors import PASSWORD, SECOND_ADMIN, TEMPORARY, add_user, api_token, cli_login, make_app, openfr, sign_in, staff
from openfr.errors import BadInputError, PermissionDeniedError
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan
from openfr.services.galleries import EnrolFields
from openfr.services.refusals import REFUSED
from openfr.store import User
from openfr.web.app import create_app

ADMIN, AUTHORISER, OFFICER, INVESTIGATOR = (
    Role.ADMINISTRATOR,
    Role.AUTHORISING_OFFICER,
    Role.OFFICER,
    Role.INVESTIGATOR,
)
CONFIRMED = dict.fromkeys(AUTHORISATION_CHECKLIST, True)


def _plan(name: str, **changes) -> DeploymentPlan:
    fields = {
        "name": name,
        "grounds": "test",
        "categories": ["wanted-serious-offence"],
        "source_gallery": "watch",
        "location": "test square",
        "location_rationale": "test",
        "cameras": {"cam": "rtsp://cam.example/1"},
        "public_notice": {"signage": "signs"},
    }
    return DeploymentPlan(**{**fields, **changes})


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample_paths):
    root = tmp_path_factory.mktemp("actor")
    app = make_app(root / "home")
    people = staff(app)
    admin = people[ADMIN]
    yao = sample_paths["yaoming"].read_bytes()
    for name, uses in (("watch", ["live", "rfr"]), ("custody", ["oifr"]), ("cases", ["rfr"]), ("custody-2", ["oifr"])):
        app.galleries.create(admin, name, f"{name} (test)", uses)
        category = "wanted-serious-offence" if name == "watch" else ""
        fields = EnrolFields(name, "YAO", "test", category=category)
        app.galleries.enrol_upload(admin, fields, filename="y.jpg", data=yao)
    web = TestClient(create_app(app), base_url="https://testserver")
    yield app, people, web, yao
    app.close()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _refusals(app, **where) -> list[dict]:
    with app.runtime.db.read() as session:
        found = audit.events(session, action=REFUSED)
    return [e for e in found if all(e["details"].get(k) == v or e.get(k) == v for k, v in where.items())]


def test_an_administrator_cannot_make_a_token_for_someone_else_at_any_door(site):
    """Finding 1: `openfr user token demo-authoriser` then POST .../authorise with it authorised the
    administrator's own plan "by demo-authoriser". No door issues a token for another account now."""
    app, people, web, _ = site
    admin = people[ADMIN]
    app.deployments.plan(admin, _plan("own-plan"))
    env = {"OPENFR_HOME": str(app.runtime.home)}
    cli_login(env, "administrator")
    made = openfr("user", "token", "authorising_officer", "--name", "x", env=env)
    assert made.returncode != 0 and "ofr_" not in made.stdout  # the command is gone
    mine = web.post("/api/login", json={"username": "administrator", "password": PASSWORD}).json()["token"]
    for path in ("/api/users/authorising_officer/tokens", "/api/users/authorising_officer/token"):
        answer = web.post(path, json={"name": "x", "scope": "read", "days": 1}, headers=_bearer(mine))
        assert answer.status_code in (404, 405), (path, answer.status_code)
    # The token an administrator can make is their own: it acts as the administrator, never as anyone else.
    own = web.post(
        "/api/me/tokens", json={"name": "mine", "scope": "read", "days": 1, "password": PASSWORD}, headers=_bearer(mine)
    )
    assert own.status_code == 201, own.text
    assert app.accounts.principal_for_token(own.json()["token"], _api()).username == "administrator"
    authorise = {"note": "ok", "checklist": CONFIRMED}
    refused = web.post("/api/deployments/own-plan/authorise", json=authorise, headers=_bearer(own.json()["token"]))
    assert refused.status_code == 403
    with app.runtime.db.read() as session:
        assert session.execute(sa.text("SELECT state FROM deployments WHERE name='own-plan'")).scalar() == "draft"


def _api():
    from openfr.governance.credentials import TokenKind

    return TokenKind.API


def test_a_token_is_its_owners_with_their_password_a_scope_within_the_role_and_at_most_90_days(site):
    app, _people, web, yao = site
    login = web.post("/api/login", json={"username": "investigator", "password": PASSWORD}).json()["token"]
    ask = {"name": "case tool", "scope": "read", "days": 30, "password": PASSWORD}
    wrong = web.post("/api/me/tokens", json={**ask, "password": "not my password"}, headers=_bearer(login))
    assert wrong.status_code == 400 and "password" in wrong.json()["detail"]
    assert _refusals(app, actor="investigator", resource="use-case:accounts.issue_own_token")  # recorded
    for bad, why in (({"days": 91}, 422), ({"scope": "everything"}, 400), ({"scope": "live"}, 400)):
        assert web.post("/api/me/tokens", json={**ask, **bad}, headers=_bearer(login)).status_code == why, bad
    read = web.post("/api/me/tokens", json=ask, headers=_bearer(login))
    assert read.status_code == 201 and read.json()["scope"] == "read"
    token = read.json()["token"]
    assert web.get("/api/galleries", headers=_bearer(token)).status_code == 200  # reading: in scope
    search = {"gallery": "cases", "reason": "case 9"}
    files = {"image": ("p.jpg", yao, "image/jpeg")}
    out_of_scope = web.post("/api/search", data=search, files=files, headers=_bearer(token))
    assert out_of_scope.status_code == 403 and "scope (read)" in out_of_scope.json()["detail"]
    # A token never makes another token: that needs the person, signed in with their password.
    again = web.post("/api/me/tokens", json=ask, headers=_bearer(token))
    assert again.status_code == 403 and "signed in" in again.json()["detail"]
    searcher = web.post("/api/me/tokens", json={**ask, "scope": "search"}, headers=_bearer(login)).json()["token"]
    assert web.post("/api/search", data=search, files=files, headers=_bearer(searcher)).status_code == 200
    # The owner sees and revokes their own; a token dies when its owner's role changes.
    listed = web.get("/api/me/tokens", headers=_bearer(login)).json()
    assert {t["scope"] for t in listed if not t["revoked"]} >= {"read", "search"}
    assert web.delete(f"/api/me/tokens/{read.json()['id']}", headers=_bearer(login)).status_code == 200
    assert web.get("/api/galleries", headers=_bearer(token)).status_code == 401
    with app.runtime.db.transaction() as session:
        session.execute(sa.update(User).where(User.username == "investigator").values(role="auditor"))
    try:
        assert web.get("/api/galleries", headers=_bearer(searcher)).status_code == 401
    finally:
        with app.runtime.db.transaction() as session:
            session.execute(sa.update(User).where(User.username == "investigator").values(role="investigator"))


def test_administrators_see_and_revoke_other_peoples_tokens_but_never_make_them(site):
    app, people, _web, _ = site
    assert not hasattr(app.staff, "issue_api_token")
    owner = sign_in(app, "auditor")
    made = app.accounts.issue_own_token(owner, "reporting", "read", 7, password=PASSWORD)
    listed = app.staff.tokens(people[ADMIN], "auditor")
    assert [t["name"] for t in listed if t["id"] == made["id"]] == ["reporting"]
    assert all("token" not in t for t in listed)  # never the token itself
    app.staff.revoke_api_token(people[ADMIN], "auditor", made["id"], "test: an administrator revokes it")
    assert app.accounts.principal_for_token(made["token"], _api()) is None


def test_an_approval_request_stays_with_its_requesters_for_life(tmp_path):
    """Finding 4: another administrator's "enable" of a pending account took the request over, and the
    account's creator then approved their own creation."""
    app = make_app(tmp_path / "home")
    people = staff(app)
    first, second = people[ADMIN], sign_in(app, SECOND_ADMIN)
    third = add_user(app, first, "administrator_3", "administrator", approver=second)
    app.staff.create_user(first, "puppet", "authorising-officer", TEMPORARY, rank="superintendent")
    app.staff.set_active(second, "puppet", True)  # a second administrator asks again
    with pytest.raises(PermissionDeniedError, match="did not ask"):
        app.staff.approve(first, "puppet")  # the creator: never, whoever asked since
    with pytest.raises(PermissionDeniedError, match="did not ask"):
        app.staff.approve(second, "puppet")  # whoever asked again: neither
    with app.runtime.db.read() as session:
        pending = session.scalars(sa.select(User).where(User.username == "puppet")).one()
        assert pending.active is False and pending.approval_requested_by == "administrator"
        assert pending.approval_requesters == ["administrator", SECOND_ADMIN]
    approved = app.staff.approve(third, "puppet")
    assert approved["active"] is True and approved["requesters"] == []
    assert len(_refusals(app, resource="use-case:staff.approve")) == 2  # both refusals are on record
    app.close()


def test_authorising_needs_a_senior_enough_rank_and_records_it(site):
    app, people, _web, _ = site
    admin, second = people[ADMIN], sign_in(app, SECOND_ADMIN)
    add_user(app, admin, "inspector_x", "authorising-officer", approver=second)
    app.staff.set_rank(admin, "inspector_x", "inspector")  # a privileged account: it waits, disabled
    app.staff.approve(second, "inspector_x")
    inspector = sign_in(app, "inspector_x")
    app.deployments.plan(admin, _plan("needs-rank"))
    with pytest.raises(PermissionDeniedError, match="superintendent or above"):
        app.deployments.authorise(inspector, "needs-rank", "ok", CONFIRMED)
    assert _refusals(app, actor="inspector_x", kind="permission")
    done = app.deployments.authorise(people[AUTHORISER], "needs-rank", "ok", CONFIRMED)
    assert done.authorised_rank == "superintendent"
    with app.runtime.db.read() as session:
        (event,) = audit.events(session, action="deployment.authorise", resource="deployment:needs-rank")
    assert event["details"]["rank"] == "superintendent"
    with pytest.raises(BadInputError, match="rank is required"):
        app.staff.create_user(admin, "rankless", "authorising-officer", TEMPORARY)


def test_a_deployment_window_starts_now_or_later_and_is_bounded(site):
    app, people, _web, _ = site
    admin = people[ADMIN]
    now = datetime.now(UTC)
    with pytest.raises(BadInputError, match="start now or later"):
        app.deployments.plan(admin, _plan("past", starts_at=now - timedelta(hours=3)))
    with pytest.raises(BadInputError, match="at most 24 h"):
        app.deployments.plan(admin, _plan("a-year", starts_at=now, ends_at=now + timedelta(days=365)))
    assert len(_refusals(app, actor="administrator", resource="use-case:deployments.plan")) >= 2
    fine = app.deployments.plan(admin, _plan("tomorrow", starts_at=now + timedelta(days=1)))
    assert fine.ends_at - fine.starts_at == timedelta(hours=8)


def test_each_search_mode_has_its_own_door_and_its_own_people(site):
    """Findings 3 and 12: POST /api/search with mode=OIFR needed no grounds and allowed top=200 and show_all;
    officers ran retrospective searches (of a live watchlist too) and investigators used /oifr."""
    app, _people, web, yao = site
    files = {"image": ("p.jpg", yao, "image/jpeg")}
    investigator, officer = api_token(app, "investigator"), api_token(app, "officer")
    oifr_by_general = {"gallery": "custody", "reason": "curious", "mode": "OIFR", "top": 200, "show_all": True}
    refused = web.post("/api/search", data=oifr_by_general, files=files, headers=_bearer(investigator))
    assert refused.status_code == 400 and "/api/oifr/search" in refused.json()["detail"]
    assert _refusals(app, actor="investigator", resource="use-case:search.search")
    for gallery in ("watch", "cases"):  # an officer runs no retrospective search, of a watchlist or anything
        rfr = {"gallery": gallery, "reason": "curious"}
        assert web.post("/api/search", data=rfr, files=files, headers=_bearer(officer)).status_code == 403
    grounds = {"grounds": "refuses", "details": "test", "gallery": "custody"}
    assert web.post("/api/oifr/search", data=grounds, files=files, headers=_bearer(investigator)).status_code == 403
    assert web.post("/api/oifr/search", data=grounds, files=files, headers=_bearer(officer)).status_code == 200
    # The console's search page offers only the galleries approved for retrospective search.
    from actors import console_sign_in

    console = TestClient(web.app, base_url="https://testserver")
    console_sign_in(console, "investigator")
    page = console.get("/search").text
    assert ">cases</option>" in page and ">watch</option>" in page
    assert "custody" not in page


def test_the_phone_page_offers_the_choice_when_several_galleries_are_approved(site):
    """Finding 12: with two galleries approved for OIFR the page said "choose one" and offered no way to."""
    _app, _people, web, yao = site
    from actors import CSRF_FIELD, console_sign_in

    phone = TestClient(web.app, base_url="https://testserver")
    console_sign_in(phone, "officer")
    page = phone.get("/oifr").text
    assert 'name="gallery"' in page and ">custody-2</option>" in page and ">custody</option>" in page
    token = CSRF_FIELD.search(page).group(1)
    form = {"csrftoken": token, "grounds": "refuses", "details": "test", "gallery": "custody-2"}
    done = phone.post("/oifr", data=form, files={"image": ("p.jpg", yao, "image/jpeg")}, headers={"x-csrftoken": token})
    assert done.status_code == 200, done.text[:300]
    assert "Searched against <b>custody-2</b>" in done.text


def test_refusals_are_recorded_once_with_who_what_and_why(site):
    app, people, _web, yao = site
    before = len(_refusals(app))
    with pytest.raises(PermissionDeniedError):
        app.galleries.create(people[Role.OPERATOR], "not-mine", "test")
    (permission,) = _refusals(app)[before:]
    assert permission["actor"] == "operator" and permission["resource"] == "use-case:galleries.create"
    assert permission["details"]["kind"] == "permission" and "may not gallery.enrol" in permission["reason"]
    with pytest.raises(BadInputError, match="below"):  # a threshold under the floor
        app.deployments.plan(people[ADMIN], _plan("low", threshold=0.01))
    assert _refusals(app)[-1]["details"]["kind"] == "safeguard"
    count = len(_refusals(app))  # an OIFR search of a gallery not approved for it: one use case, one refusal
    with pytest.raises(BadInputError):
        app.oifr.search(people[OFFICER], yao, grounds="refuses", details="test", gallery="cases")
    assert len(_refusals(app)) == count + 1
    with pytest.raises(BadInputError):  # a gallery that does not exist is not a safeguard refusing anything
        app.oifr.search(people[OFFICER], yao, grounds="refuses", details="test", gallery="no-such")
    assert len(_refusals(app)) == count + 1


def test_the_console_lets_a_person_make_and_revoke_their_own_token(site):
    app, _people, web, _ = site
    from actors import CSRF_FIELD, console_sign_in

    console = TestClient(web.app, base_url="https://testserver")
    console_sign_in(console, "operator")
    page = console.get("/account").text
    assert page.count('action="/account/tokens"') == 1 and "<title>My account" in page
    assert 'value="live"' in page and 'value="search"' not in page  # only the scopes that mean something here
    token = CSRF_FIELD.search(page).group(1)
    form = {"csrftoken": token, "name": "control room tablet", "scope": "live", "days": "7"}
    wrong = console.post("/account/tokens", data={**form, "password": "not it at all"})
    assert wrong.status_code == 400 and "password is wrong" in wrong.text and "ofr_" not in wrong.text
    made = console.post("/account/tokens", data={**form, "password": PASSWORD})
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    shown = made.text.split('class="new-token">')[1].split("<")[0]
    assert shown.startswith("ofr_") and app.accounts.principal_for_token(shown, _api()).scope_name == "live"
    assert shown not in console.get("/account").text  # shown once
    (row,) = [t for t in app.accounts.my_tokens(sign_in(app, "operator")) if t["name"] == "control room tablet"]
    gone = console.post(f"/account/tokens/{row['id']}/revoke", data={"csrftoken": token})
    assert gone.status_code == 200 and app.accounts.principal_for_token(shown, _api()) is None


def test_enrolment_honours_the_galleries_uses_and_categories(site):
    """Finding 6: enrolment ignored what a gallery was approved for: a watchlist category went into a gallery
    that feeds no watchlist, and a gallery withdrawn from every use still took new people."""
    app, people, web, yao = site
    admin = people[ADMIN]
    wanted = EnrolFields("cases", "W-1", "test", category="wanted-serious-offence")
    with pytest.raises(BadInputError, match="not approved as a live source"):
        app.galleries.enrol_upload(admin, wanted, filename="y.jpg", data=yao)
    app.galleries.create(admin, "withdrawn", "test", ["rfr"])
    app.galleries.set_uses(admin, "withdrawn", [], "DPIA withdrawn")
    with pytest.raises(BadInputError, match="approved for no use"):
        app.galleries.enrol_upload(admin, EnrolFields("withdrawn", "W-2", "test"), filename="y.jpg", data=yao)
    token = api_token(app, "administrator")
    files = {"image": ("y.jpg", yao, "image/jpeg")}
    data = {"subject": "W-3", "source": "test", "category": "missing-person"}
    assert web.post("/api/galleries/cases/enrol", data=data, files=files, headers=_bearer(token)).status_code == 409
    with app.runtime.db.read() as session:
        refs = session.execute(sa.text("SELECT external_id FROM subjects WHERE external_id LIKE 'W-%'")).all()
    assert refs == []  # nothing enrolled
    assert len(_refusals(app, actor="administrator", resource="use-case:galleries.enrol_upload")) == 3
