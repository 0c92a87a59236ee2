"""Issue 21, finding 11: the audit trail's vocabulary is a known list (governance/actions.py), kept in step with
the code, and the action filter takes only its words; a page that shows faces is one event listing them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from actors import api_token, make_app, staff
from openfr.errors import BadInputError
from openfr.governance import audit
from openfr.governance.actions import ACTIONS, FAMILIES, check_filter
from openfr.governance.permissions import Role
from openfr.services.galleries import EnrolFields
from openfr.web.app import create_app

SOURCE = Path(__file__).resolve().parents[1] / "src" / "openfr"
# Actions built at run time, by name: what each call site can produce.
DYNAMIC = {
    "services/alerts.py": {"alert.confirm", "alert.reject"},
    "services/runs.py": {"deployment.start", "deployment.run", "deployment.resume"},
    "services/staff.py": {"user.enable", "user.disable"},
    "services/refusals.py": {"refused"},
    "governance/sealing.py": {"audit.sealing.start"},
    "services/server_start.py": {"server.start"},
}


def _recorded_actions() -> dict[str, set[str]]:
    """Every action string passed to audit.record, by file (constants and the two branches of a conditional)."""
    found: dict[str, set[str]] = {}
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            call = node if isinstance(node, ast.Call) else None
            if call is None or not (isinstance(call.func, ast.Attribute) and call.func.attr == "record"):
                continue
            if not (isinstance(call.func.value, ast.Name) and call.func.value.id == "audit") or len(call.args) < 3:
                continue
            where = path.relative_to(SOURCE).as_posix()
            action = call.args[2]
            branches = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
            for branch in branches:
                if isinstance(branch, ast.Constant):
                    found.setdefault(where, set()).add(branch.value)
                else:
                    assert where in DYNAMIC, f"{where}:{call.lineno}: an action built at run time; list it in DYNAMIC"
                    found.setdefault(where, set()).update(DYNAMIC[where])
    return found


def test_every_recorded_action_is_declared_and_every_declared_one_is_recorded():
    recorded = set().union(*_recorded_actions().values())
    assert recorded - set(ACTIONS) == set(), "actions recorded but not declared in governance/actions.py"
    assert set(ACTIONS) - recorded == set(), "actions declared but recorded nowhere (dead vocabulary)"


def test_the_action_filter_takes_a_known_action_or_family_never_free_text():
    assert check_filter("deployment") == "deployment" and "deployment" in FAMILIES
    assert check_filter("alert.view") == "alert.view" and check_filter(" ") is None
    for text in ("deploy", "alert.%", "x' OR '1'='1"):
        with pytest.raises(BadInputError, match="unknown action"):
            check_filter(text)


@pytest.fixture(scope="module")
def world(tmp_path_factory, sample_paths):
    app = make_app(tmp_path_factory.mktemp("vocabulary"))
    people = staff(app)
    admin = people[Role.ADMINISTRATOR]
    app.galleries.create(admin, "custody", "test", uses=["rfr"])
    data = sample_paths["yaoming"].read_bytes()
    for i in range(12):
        app.galleries.enrol_upload(admin, EnrolFields("custody", f"S-{i:02d}", "test"), filename="y.jpg", data=data)
    yield app, people, TestClient(create_app(app), base_url="https://testserver")
    app.close()


def test_a_gallery_page_is_one_event_listing_the_faces_it_shows(world):
    """Finding 11: one gallery page was 45 events (one per thumbnail); now one, naming the subjects shown."""
    app, _people, web = world
    from actors import console_sign_in

    console_sign_in(web, "auditor")

    def count() -> int:
        with app.runtime.db.read() as session:
            return audit.count(session)

    before = count()
    page = web.get("/galleries/custody")
    assert page.status_code == 200
    thumbs = [part.split('"')[0] for part in page.text.split('src="')[1:] if "/image.jpg" in part.split('"')[0]]
    assert len(thumbs) == 12
    for url in thumbs:
        assert web.get(url.replace("&amp;", "&")).status_code == 200
    assert count() == before + 1  # the page, with its twelve faces: one event
    with app.runtime.db.read() as session:
        (event,) = audit.events(session, action="gallery.view", limit=1, newest_first=True)
    assert sorted(event["details"]["images"]) == [f"S-{i:02d}" for i in range(12)]
    # A face fetched without the page's grant (or with another person's) is an event of its own.
    stolen = thumbs[0].replace("&amp;", "&")
    bearer = {"Authorization": f"Bearer {api_token(app, 'administrator')}"}
    other = TestClient(web.app, base_url="https://testserver")
    console_sign_in(other, "administrator")
    before = count()
    assert other.get(stolen).status_code == 200 and count() == before + 1
    assert web.get(stolen.split("?")[0]).status_code == 200 and count() == before + 2
    assert web.get("/api/audit/events", params={"action": "gallery"}, headers=bearer).status_code == 200
    assert web.get("/api/audit/events", params={"action": "galle"}, headers=bearer).status_code == 400
