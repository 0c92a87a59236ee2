"""The JSON API: every route declares a permission; no route answers a role without it; unauthenticated
calls get 401; login issues a token; adjudication through the API is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openfr.governance import accounts
from openfr.governance.permissions import MATRIX, Role
from openfr.runtime import Services
from openfr.settings import Settings
from openfr.web.app import create_app
from openfr.web.deps import Require

PUBLIC = {("GET", "/api/health"), ("POST", "/api/login")}
PASSWORD = "correct horse battery"


def _permission(dependant) -> list:
    found = [d.call.permission for d in dependant.dependencies if isinstance(d.call, Require)]
    for sub in dependant.dependencies:
        found += _permission(sub)
    return found


def _flatten(routes):
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers as wrappers
        yield from _flatten(included.routes) if included is not None else [route]


def api_routes(app) -> list[tuple[str, str, list]]:
    found = [
        (method, route.path, _permission(route.dependant))
        for route in _flatten(app.routes)
        if getattr(route, "path", "").startswith("/api")
        for method in route.methods
    ]
    assert len(found) >= 12  # the routers are all there
    return found


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("api")
    services = Services(Settings(home=Path(home)))
    tokens = {}
    with services.db.transaction() as session:
        for role in Role:
            name = role.value.replace("-", "_")
            accounts.create_user(session, name, role.value, PASSWORD, actor="test")
            tokens[role] = accounts.issue_token(session, name, "test", actor="test")
    test_client = TestClient(create_app(services))
    test_client.tokens = tokens
    return test_client


def _call(client, method: str, path: str, token: str | None):
    url = path.replace("{name}", "nope").replace("{alert_id}", "999999")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"decision": "confirmed", "outcome": "not-engaged", "note": ""} if method == "POST" else None
    return client.request(method, url, headers=headers, json=body)


def test_every_route_declares_exactly_one_permission(client):
    for method, path, permissions in api_routes(client.app):
        if (method, path) in PUBLIC:
            assert permissions == [], path
        else:
            assert len(permissions) == 1, f"{method} {path} must depend on Require(...)"


def test_route_by_role_matrix_and_401_without_a_token(client):
    checked = 0
    for method, path, permissions in api_routes(client.app):
        if (method, path) in PUBLIC:
            continue
        assert _call(client, method, path, None).status_code == 401, path
        assert _call(client, method, path, "ofr_not-a-token").status_code == 401, path
        for role, token in client.tokens.items():
            status = _call(client, method, path, token).status_code
            if permissions[0] in MATRIX[role]:
                assert status not in (401, 403), f"{role} should reach {method} {path}"
            else:
                assert status == 403, f"{role} must not reach {method} {path} (got {status})"
            checked += 1
    assert checked >= 6 * 12


def test_login_issues_a_token_and_wrong_passwords_are_refused(client):
    assert client.post("/api/login", json={"username": "auditor", "password": "wrong password!"}).status_code == 401
    done = client.post("/api/login", json={"username": "auditor", "password": PASSWORD})
    assert done.status_code == 200 and done.json()["role"] == "auditor"
    token = done.json()["token"]
    verified = client.get("/api/audit/verify", headers={"Authorization": f"Bearer {token}"})
    assert verified.status_code == 200 and verified.json()["ok"] is True
    events = client.get("/api/audit/events?action=login", headers={"Authorization": f"Bearer {token}"}).json()
    assert [e["action"] for e in events][-2:] == ["login.failed", "login"]
    assert "/api/deployments" in client.get("/openapi.json").json()["paths"]


def test_one_address_trying_many_accounts_is_slowed_down(client):
    from openfr.web.routes import system

    system.LOGIN_LIMIT._seen.clear()
    statuses = [
        client.post("/api/login", json={"username": f"nobody{i}", "password": "wrong password!"}).status_code
        for i in range(system.LOGIN_LIMIT.attempts + 1)
    ]
    assert statuses[:-1] == [401] * system.LOGIN_LIMIT.attempts and statuses[-1] == 429
    refused = client.post("/api/login", json={"username": "auditor", "password": PASSWORD})
    assert refused.status_code == 429  # even the right password, from this address, for now
    system.LOGIN_LIMIT._seen.clear()
