"""The JSON API as a door: every route but health and login needs a bearer token (401 without one, the
reason not detailed); login issues a token and refuses wrong passwords; one address trying many accounts is
slowed down. What each role may do is the services' answer, checked door by door in test_doors.py."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from actors import PASSWORD, make_app, staff
from openfr.governance.credentials import TokenKind, TooManyAttemptsError
from openfr.governance.ratelimit import FREE_PER_ACCOUNT, FREE_PER_ADDRESS
from openfr.web.app import create_app

PUBLIC = {("GET", "/api/health"), ("POST", "/api/login")}


def _flatten(routes):
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers as wrappers
        yield from _flatten(included.routes) if included is not None else [route]


def api_routes(app) -> list[tuple[str, str]]:
    found = [
        (method, route.path)
        for route in _flatten(app.routes)
        if getattr(route, "path", "").startswith("/api")
        for method in route.methods
    ]
    assert len(found) >= 20  # the routers are all there
    return found


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    application = make_app(tmp_path_factory.mktemp("api"))
    staff(application)
    return TestClient(create_app(application))


def test_every_route_but_health_and_login_needs_a_valid_token(client):
    for method, path in api_routes(client.app):
        if (method, path) in PUBLIC:
            continue
        url = path.replace("{name}", "nope").replace("{alert_id}", "1").replace("{subject}", "S")
        url = url.replace("{token_id}", "1").replace("{index}", "0")
        for headers in ({}, {"Authorization": "Bearer ofr_not-a-token"}, {"Authorization": "Basic eDp5"}):
            answer = client.request(method, url, headers=headers)
            assert answer.status_code == 401, (method, path, headers)
            assert answer.json()["detail"] in ("authentication required", "invalid or expired token")


def test_login_issues_a_token_and_wrong_passwords_are_refused(client):
    refused = client.post("/api/login", json={"username": "auditor", "password": "wrong password!"})
    assert refused.status_code == 401 and "login refused" in refused.json()["detail"]
    done = client.post("/api/login", json={"username": "auditor", "password": PASSWORD})
    assert done.status_code == 200 and done.json()["role"] == "auditor"
    token = done.json()["token"]
    verified = client.get("/api/audit/verify", headers={"Authorization": f"Bearer {token}"})
    assert verified.status_code == 200 and verified.json()["ok"] is True
    events = client.get("/api/audit/events?action=login", headers={"Authorization": f"Bearer {token}"}).json()
    assert [e["action"] for e in events][-2:] == ["login.failed", "login"]
    assert "/api/deployments" in client.get("/openapi.json").json()["paths"]


def test_one_address_trying_many_accounts_is_slowed_down_never_locked_out(client):
    """Issue 21, finding 6: fifty failures with made-up names from one address used to refuse every account
    from it, right passwords included (429). Now they slow the address down, and the right password gets in."""
    app = client.app.state.openfr
    app.accounts.throttle.forget()
    spray = [
        client.post("/api/login", json={"username": f"nobody{i}", "password": "wrong password!"}).status_code
        for i in range(FREE_PER_ADDRESS + 2)
    ]
    assert spray == [401] * len(spray)  # every attempt was answered (the last ones after their wait)
    assert app.accounts.throttle.wait_s("testclient", "auditor") > 0  # the address is slowed down...
    with pytest.raises(TooManyAttemptsError) as early:  # ...and an attempt that does not wait is refused
        app.accounts.sign_in("auditor", PASSWORD, None, TokenKind.API, address="testclient")
    assert early.value.retry_after >= 1
    right = client.post("/api/login", json={"username": "auditor", "password": PASSWORD})
    assert right.status_code == 200  # ...but never shut out: the right password signs in after the wait
    app.accounts.throttle.forget()


def test_one_colleagues_typos_do_not_slow_a_shared_address_down_for_everyone(client):
    app = client.app.state.openfr
    app.accounts.throttle.forget()
    typos = [
        client.post("/api/login", json={"username": "ghost", "password": "wrong password!"}).status_code
        for _ in range(FREE_PER_ACCOUNT + 1)
    ]
    assert typos == [401] * len(typos)
    assert app.accounts.throttle.wait_s("testclient", "ghost") > 0  # this account from this address waits...
    assert app.accounts.throttle.wait_s("testclient", "auditor") == 0  # ...everyone else behind it does not
    other = client.post("/api/login", json={"username": "auditor", "password": PASSWORD})
    assert other.status_code == 200
    app.accounts.throttle.forget()


def test_bad_values_are_refused_with_4xx_and_the_reason(client):
    token = client.post("/api/login", json={"username": "authorising_officer", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    plan = {
        "name": "x1",
        "grounds": "g",
        "categories": ["missing-person"],
        "source_gallery": "none",
        "location": "l",
        "location_rationale": "r",
        "cameras": {"cam": "rtsp://cam.example/1"},
        "public_notice": {"signage": "signs"},
    }
    for threshold in ("NaN", "1e999", "2.0", "0.01"):  # sent as written: NaN and 1e999 (infinity) are no scores
        body = json.dumps(plan)[:-1] + f', "threshold": {threshold}}}'
        answer = client.post("/api/deployments", content=body, headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code in (400, 422) and "threshold" in answer.text, (threshold, answer.text)
    named_one = client.post("/api/deployments", json={**plan, "name": "1"}, headers=headers)
    assert named_one.status_code == 400 and "only digits" in named_one.json()["detail"]
    assert client.get("/api/deployments/1", headers=headers).status_code == 404  # ids are never names
