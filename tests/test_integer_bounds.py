"""Every whole number a request can carry (path, query, form field or JSON body field, of the API and of the
console) has a lower and an upper bound, so that a number like 10**23 is a 422 from the door and never reaches
the store (where SQLite raised OverflowError: a 500). Issue 21, finding 6."""

from __future__ import annotations

import copy

import pytest
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from actors import PASSWORD, make_app, staff
from openfr.governance.permissions import Role
from openfr.web.app import create_app
from test_api import _flatten

HUGE = "99999999999999999999999"  # the finding's offset: past SQLite's 64-bit integers


def _every_operation(app) -> dict:
    """The OpenAPI document of every route, the console's included (they are left out of /openapi.json)."""
    routes = []
    for route in _flatten(app.routes):
        if isinstance(route, APIRoute):
            shown = copy.copy(route)
            shown.include_in_schema = True
            routes.append(shown)
    return get_openapi(title="every route", version="1", routes=routes)


def _integers(schema: dict, where: str, components: dict, seen: tuple = ()):
    """Each place in `schema` that takes an integer, and whether it has both a lower and an upper bound."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _integers(components[name], where, components, (*seen, name))
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _integers(option, where, components, seen)
    if schema.get("type") == "integer":
        low = "minimum" in schema or "exclusiveMinimum" in schema
        high = "maximum" in schema or "exclusiveMaximum" in schema
        yield where, low and high
    for name, field in schema.get("properties", {}).items():
        yield from _integers(field, f"{where}.{name}", components, seen)
    if isinstance(schema.get("items"), dict):
        yield from _integers(schema["items"], f"{where}[]", components, seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _integers(schema["additionalProperties"], f"{where}{{}}", components, seen)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("bounds"))
    people = staff(app)
    app.galleries.create(people[Role.ADMINISTRATOR], "custody", "test gallery")
    yield app, create_app(app)
    app.close()


def test_every_integer_parameter_of_the_api_and_the_console_has_both_bounds(web):
    document = _every_operation(web[1])
    components = document.get("components", {}).get("schemas", {})
    integers = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['in']} {parameter['name']}"
                integers += _integers(parameter["schema"], where, components)
            for kind, content in operation.get("requestBody", {}).get("content", {}).items():
                integers += _integers(content["schema"], f"{method.upper()} {path} body ({kind})", components)
    assert len(document["paths"]) >= 80  # the API and the console, not a corner of them
    assert len(integers) >= 20  # ids, offsets, limits, pages, ranks, top, a plan's shots: the walk sees them
    assert [where for where, bounded in integers if not bounded] == []


def test_a_huge_number_is_refused_by_the_door_not_a_server_error(web):
    site = web[1]
    client = TestClient(site, raise_server_exceptions=False)
    token = client.post("/api/login", json={"username": "administrator", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for url in (
        f"/api/galleries/custody/subjects?offset={HUGE}",
        f"/api/galleries/custody/subjects?limit={HUGE}",
        f"/api/audit/events?offset={HUGE}",
        f"/api/searches/{HUGE}/candidates/1/image",
        f"/api/deployments/none/watchlist/{HUGE}",
    ):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 422, (url, answer.status_code, answer.text[:200])
    assert client.get("/api/galleries/custody/subjects?offset=0", headers=headers).status_code == 200
