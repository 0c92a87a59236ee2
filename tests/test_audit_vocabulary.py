"""The audit trail's vocabulary (issue 21 finding 11, issue 22): every action is a typed event declared in
governance/events.py, the services record only instances of them, every declared event is recorded somewhere,
the reference in docs/audit-events.md is generated from it, and the action filter takes only its words; a page
that shows faces is one event listing them."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from actors import api_token, console_sign_in, make_app, staff
from openfr.errors import BadInputError
from openfr.governance import audit, events
from openfr.governance.event_base import Event, detail, event
from openfr.governance.events import EVENTS, FAMILIES, check_filter
from openfr.governance.events_doc import events_reference
from openfr.governance.permissions import Role
from openfr.services.galleries import EnrolFields
from openfr.web.app import create_app

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "src" / "openfr"
VOCABULARY = SOURCE / "governance" / "events.py"
CLASSES = {kind.__name__ for kind in EVENTS.values()}


def _named_event_classes() -> dict[str, set[str]]:
    """Every event class the code names outside the vocabulary (`events.DeploymentLive`, recorded at once or
    chosen by the code before it records it, or imported by name), by file."""
    found: dict[str, set[str]] = {}
    for path in SOURCE.rglob("*.py"):
        if path == VOCABULARY:
            continue
        where = path.relative_to(SOURCE).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "events":
                names = [node.attr]
            elif isinstance(node, ast.ImportFrom) and node.module == "openfr.governance.events":
                names = [alias.name for alias in node.names]
            else:
                continue
            classes = {n for n in names if n[:1].isupper() and not n.isupper() and n != "Event"}
            found.setdefault(where, set()).update(classes)
    return found


def _record_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                calls.append((f"{path.relative_to(SOURCE).as_posix()}:{node.lineno}", node))
    return calls


def test_every_declared_event_is_recorded_somewhere_and_the_code_names_no_other():
    named = set().union(*_named_event_classes().values())
    assert named - CLASSES == set(), "event classes named in the code but not declared in governance/events.py"
    assert CLASSES - named == set(), "events declared but recorded nowhere (dead vocabulary)"


def test_audit_record_is_given_an_event_never_an_action_string_or_loose_details():
    calls = _record_calls()
    assert len(calls) >= 50
    for where, call in calls:
        assert len(call.args) >= 4 and not call.keywords, f"{where}: record(session, actor, event, resource, reason)"
        given = call.args[2]
        assert not isinstance(given, ast.Constant | ast.JoinedStr | ast.IfExp), f"{where}: an event, not a string"


def test_each_event_class_is_named_after_its_action():
    assert sorted({action.split(".", 1)[0] for action in EVENTS}) == FAMILIES
    for action, kind in EVENTS.items():
        assert kind.__name__ == "".join(part.capitalize() for part in re.split(r"[.-]", action)), action
        assert kind.meaning() and kind.action == action


def test_the_events_reference_is_generated_from_the_vocabulary_and_current():
    doc = (REPO / "docs" / "audit-events.md").read_text()
    assert doc == events_reference(), "regenerate: openfr audit docs > docs/audit-events.md"
    for action, kind in EVENTS.items():
        assert f"### `{action}`" in doc and kind.meaning() in doc
        assert all(f"| `{f.name}` |" in doc for f in kind.detail_fields())


def test_an_event_refuses_details_it_does_not_declare_and_leaves_out_optional_ones_not_given():
    with pytest.raises(TypeError, match="unexpected keyword argument 'cameras'"):
        events.DeploymentLive(cameras=3)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'channel'"):
        events.Login()
    assert events.GalleryView(query=False, offset=0, shown=2).details() == {"query": False, "offset": 0, "shown": 2}
    oifr = events.Search(
        mode="OIFR", crime_ref=None, search_id=1, candidates=0, reached=0, threshold=0.5, gallery_size=9,
        show_all=False, probe_usable=True, poor_probe_reason=None, top=5, grounds="missing-person", location=None,
    )  # fmt: skip
    assert oifr.details()["location"] is None and oifr.details()["crime_ref"] is None  # given as None: kept
    with pytest.raises(AttributeError):
        events.Login(channel="web").channel = "api"  # type: ignore[misc]  (frozen)


def test_an_event_type_must_say_what_it_means_document_its_details_and_not_repeat_an_action():
    with pytest.raises(TypeError, match="docstring"):

        @event("test.undocumented")
        class Undocumented(Event):
            pass

    with pytest.raises(TypeError, match="declare each detail"):

        @event("test.bare-detail")
        class BareDetail(Event):
            """A detail without a word on what it holds."""

            count: int = 0

    with pytest.raises(TypeError, match="declared already by Login"):

        @event("login")
        class SecondLogin(Event):
            """Another sign-in."""

            channel: str = detail("where")

    with pytest.raises(TypeError, match=r"declare audit events in governance/events\.py"):

        @event("test.elsewhere")
        class Elsewhere(Event):
            """Well formed, but declared outside the vocabulary's module."""

    assert {"test.undocumented", "test.bare-detail", "test.elsewhere"}.isdisjoint(EVENTS)
    assert EVENTS["login"] is events.Login


def test_the_action_filter_takes_a_known_action_or_family_never_free_text():
    assert check_filter("deployment") == "deployment" and "deployment" in FAMILIES
    assert check_filter("alert.view") == "alert.view" and check_filter(" ") is None
    for text in ("deploy", "alert.%", "x' OR '1'='1", "deployment.run"):  # deployment.run: never recorded
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


def test_audit_record_refuses_anything_but_a_declared_event_and_writes_nothing(world):
    app, _people, _web = world

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Undeclared(Event):
        """Not in the vocabulary."""

    with app.runtime.db.read() as session:
        before = audit.count(session)
    for wrong in ("deployment.live", Undeclared(), {"action": "login"}):
        with pytest.raises(TypeError, match="not an event declared"), app.runtime.db.transaction() as session:
            audit.record(session, "tester", wrong, "test")  # type: ignore[arg-type]
    with app.runtime.db.transaction() as session:
        audit.record(session, "tester", events.AuditExport(format="csv", events=0, filter_actor="x"), "audit")
    with app.runtime.db.read() as session:
        assert audit.count(session) == before + 1
        (stored,) = audit.events(session, actor="tester")
    assert (stored["action"], stored["details"]) == (
        "audit.export",
        {"format": "csv", "events": 0, "filter_actor": "x"},
    )


def test_the_console_filter_and_the_api_list_every_declared_action(world):
    app, _people, web = world
    console_sign_in(web, "auditor")
    page = web.get("/audit")
    assert page.status_code == 200
    offered = set(re.findall(r'<option value="([^"]+)" title=', page.text))
    assert offered == set(EVENTS)
    bearer = {"Authorization": f"Bearer {api_token(app, 'auditor')}"}
    listed = web.get("/api/audit/actions", headers=bearer).json()
    assert [row["action"] for row in listed] == list(EVENTS)
    assert next(row for row in listed if row["action"] == "alert.outcome")["details"] == ["outcome"]
