"""Probes are searched, not refused: a face below the quality gate still gets candidates, with the verdict
and its reasons at every door; a setting can require a recorded reason for it; enrolment keeps the strict
gate; a photo without any face is still refused."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from actors import PASSWORD, console_sign_in, make_app, staff
from openfr.errors import BadInputError, EnrolmentRejectedError, NoFaceError
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.services.galleries import EnrolFields
from openfr.services.searches import SearchRequest
from openfr.settings import SearchSettings
from openfr.store import SearchRecord
from openfr.web.app import create_app


def _jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photos(samples) -> dict[str, bytes]:
    """The portrait, and the same portrait blurred until the gate refuses it (the face is still found)."""
    portrait = samples["yaoming"]
    return {"good": _jpeg(portrait), "blurred": _jpeg(cv2.GaussianBlur(portrait, (0, 0), 3.5))}


def _app(tmp_path, **settings):
    app = make_app(tmp_path, **settings)
    people = staff(app)
    app.galleries.create(people[Role.ADMINISTRATOR], "custody", "test gallery")
    fields = EnrolFields("custody", "YAO-1", "custody suite", display_name="Yao")
    app.galleries.enrol_upload(people[Role.ADMINISTRATOR], fields, filename="y.jpg", data=_good(app))
    return app, people


def _good(app) -> bytes:
    from openfr.engine.packs.base import verify
    from openfr.engine.packs.buffalo_s import SAMPLES

    return verify(SAMPLES["yaoming"].locate(), SAMPLES["yaoming"].sha256).read_bytes()


def test_a_probe_below_the_quality_gate_is_searched_with_its_verdict(tmp_path, engine, photos):
    app, people = _app(tmp_path)
    blurred = engine.detect(np.asarray(Image.open(io.BytesIO(photos["blurred"]))))[0].quality
    assert not blurred.usable and any("blurred" in r for r in blurred.reasons)
    request = SearchRequest(gallery="custody", reason="CCTV still of a robbery", crime_ref="CR/9/26")
    result = app.search.search(people[Role.INVESTIGATOR], request, photos["blurred"], name="still.jpg")
    assert result.candidates and result.candidates[0].subject == "YAO-1"  # still the right lead
    assert result.probe_quality["usable"] is False and "blurred" in result.warning
    good = app.search.search(people[Role.INVESTIGATOR], request, photos["good"])
    assert good.probe_quality["usable"] is True and good.warning is None
    with app.runtime.db.read() as session:
        records = session.scalars(sa.select(SearchRecord).order_by(SearchRecord.id)).all()
        events = audit.events(session, action="search")
    assert [r.probe_quality["usable"] for r in records] == [False, True]
    assert [e["details"]["probe_usable"] for e in events] == [False, True]
    blank = _jpeg(np.full((300, 300, 3), 120, np.uint8))
    with pytest.raises(NoFaceError, match="no face found"):  # nothing to search with: refused, as before
        app.search.search(people[Role.INVESTIGATOR], request, blank)
    # Enrolment keeps the strict gate: the same blurred photo is rejected with the reason, and nothing kept.
    fields = EnrolFields("custody", "BLUR-1", "test")
    with pytest.raises(EnrolmentRejectedError, match="blurred"):
        app.galleries.enrol_upload(people[Role.ADMINISTRATOR], fields, filename="b.jpg", data=photos["blurred"])


def test_a_setting_requires_a_recorded_reason_for_a_poor_probe(tmp_path, photos):
    app, people = _app(tmp_path, search=SearchSettings(poor_probe_needs_reason=True))
    investigator = people[Role.INVESTIGATOR]
    plain = SearchRequest(gallery="custody", reason="CCTV still")
    with pytest.raises(BadInputError, match="needs a recorded reason"):
        app.search.search(investigator, plain, photos["blurred"])
    assert app.search.search(investigator, plain, photos["good"]).candidates  # a good photo needs none
    why = SearchRequest(gallery="custody", reason="CCTV still", poor_probe_reason="the only image of the suspect")
    assert app.search.search(investigator, why, photos["blurred"]).candidates
    with app.runtime.db.read() as session:
        records = session.scalars(sa.select(SearchRecord).order_by(SearchRecord.id)).all()
        last = audit.events(session, action="search")[-1]
    assert [r.poor_probe_reason for r in records] == [None, "the only image of the suspect"]
    assert last["details"]["poor_probe_reason"] == "the only image of the suspect"


def test_the_api_and_the_console_show_the_warning(tmp_path, photos):
    app, _ = _app(tmp_path)
    web = TestClient(create_app(app), base_url="https://testserver")
    token = web.post("/api/login", json={"username": "investigator", "password": PASSWORD}).json()["token"]
    files = {"image": ("still.jpg", photos["blurred"], "image/jpeg")}
    data = {"gallery": "custody", "reason": "CCTV still"}
    answer = web.post("/api/search", data=data, files=files, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["probe_quality"]["usable"] is False and "quality gate" in answer.json()["warning"]
    assert answer.json()["candidates"][0]["subject"] == "YAO-1"
    csrf = console_sign_in(web, "investigator")
    page = web.post("/search", data={**data, "mode": "RFR"}, files=files, headers={"x-csrftoken": csrf})
    assert page.status_code == 200 and "Poor photo:" in page.text and "YAO-1" in page.text
