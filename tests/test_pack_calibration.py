"""Issue 22: a pack carries its identification calibration. A pack a force supplies (onnx-dir) used to fall
back to the 1:1 threshold with no live floor per watchlist size; now `openfr evaluate calibrate` writes the
calibration beside the pack, a calibration of other weights is refused, and without one every live act is
refused with the command that makes one."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from actors import api_token, make_app, openfr, staff, username
from conftest import shared
from live_data import wanted_gallery
from openfr.engine.packs import get_pack
from openfr.engine.packs.base import SHIPPED_CALIBRATIONS
from openfr.engine.packs.buffalo_s import EMBEDDER
from openfr.engine.packs.onnx_dir import CALIBRATION
from openfr.errors import UncalibratedPackError
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.identification import IdentificationCalibration, require_calibration
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan
from openfr.settings import Settings
from openfr.thresholds import identification_threshold, live_floor
from openfr.web.app import create_app
from pack_data import onnx_dir_pack

ADMIN, AUTHORISER, OPERATOR = Role.ADMINISTRATOR, Role.AUTHORISING_OFFICER, Role.OPERATOR
CONFIRMED = dict.fromkeys(AUTHORISATION_CHECKLIST, True)  # every checklist item answered yes
HOW = "openfr evaluate calibrate STRANGERS --watchlist IDENTITIES --pack onnx-dir"


def supplied_pack(root: Path) -> Path:
    """An onnx-dir pack a force might supply: buffalo_s's weights in a folder, with no calibration."""
    return onnx_dir_pack(root, id="force-model", name="a force's own model", licence="licensed to the force",
                         licence_class="vendor", training_data="as the supplier states")  # fmt: skip


def calibrate_with_shipped_figures(folder: Path, embedder_sha256: str = EMBEDDER.sha256) -> Path:
    """The shipped buffalo_s calibration placed beside the pack (the same weights: valid for it), naming
    `embedder_sha256` as the weights it was measured with."""
    data = json.loads((SHIPPED_CALIBRATIONS / "buffalo_s.json").read_text())
    path = folder / CALIBRATION
    path.write_text(json.dumps(data | {"pack": "onnx-dir:force-model", "embedder_sha256": embedder_sha256}))
    return path


def _plan(name: str = "market") -> DeploymentPlan:
    now = datetime.now(UTC)
    return DeploymentPlan(
        name=name, grounds="test", categories=["wanted-serious-offence", "missing-person"],
        source_gallery="custody", location="square", location_rationale="footfall",
        cameras={"north": "rtsp://10.0.0.9/north"}, public_notice={"signage": "signs"},
        starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1),
    )  # fmt: skip


@pytest.fixture(scope="module")
def installation(tmp_path_factory, samples, engine):
    """An installation running the supplied pack, with a live-approved gallery of two wanted people (made
    once: each test plans its own deployment)."""
    root = tmp_path_factory.mktemp("force")
    folder = supplied_pack(root)
    app = make_app(root / "home", model_pack="onnx-dir", model_dir=folder)
    people = staff(app)
    gallery, manifest = wanted_gallery(root / "gallery", samples, engine)
    app.galleries.enrol_folder(
        people[ADMIN], "custody", gallery, manifest=manifest, create="test gallery", uses=["rfr", "live"]
    )
    yield app, people, folder
    app.close()


@pytest.fixture
def force(installation):
    """The installation as the force first has it: its pack without a calibration."""
    (installation[2] / CALIBRATION).unlink(missing_ok=True)
    return installation


def _refusals(app) -> list[str]:
    """The use cases refused so far, oldest first."""
    with app.runtime.db.read() as session:
        return [e["resource"] for e in audit.events(session, action="refused", newest_first=False)]


def test_a_supplied_pack_without_a_calibration_is_refused_live_saying_how_to_make_one(force):
    app, people, folder = force
    assert app.runtime.engine.card.id == "onnx-dir:force-model"
    with pytest.raises(UncalibratedPackError, match="no identification calibration") as refused:
        app.deployments.plan(people[ADMIN], _plan())
    assert HOW in str(refused.value) and str(folder) not in str(refused.value)  # the command, never a path
    assert all(d.name != "market" for d in app.deployments.list(people[ADMIN]))  # nothing planned
    assert _refusals(app)[-1] == "use-case:deployments.plan"
    # The same answer at the API door, as a 409 with the command.
    web = TestClient(create_app(app), base_url="https://testserver")
    headers = {"Authorization": f"Bearer {api_token(app, username(ADMIN))}"}
    answer = web.post("/api/deployments", json=_api_plan("by-api"), headers=headers)
    assert answer.status_code == 409 and HOW in answer.json()["detail"], answer.text
    assert _refusals(app)[-1] == "use-case:deployments.plan"
    # Searches are not refused: they keep the 1:1 threshold (and say their false-candidate rate is unknown).
    assert identification_threshold(app.runtime.engine.card, 10_000, 1e-3) == 0.25


def _api_plan(name: str) -> dict:
    now = datetime.now(UTC)
    return {
        "name": name, "grounds": "test", "categories": ["wanted-serious-offence", "missing-person"],
        "source_gallery": "custody", "location": "square", "location_rationale": "footfall",
        "cameras": {"north": "rtsp://10.0.0.9/north"}, "public_notice": {"signage": "signs"},
        "starts_at": (now - timedelta(minutes=1)).isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat(),
    }  # fmt: skip


def test_authorising_or_starting_is_refused_once_the_calibration_is_gone(force):
    app, people, folder = force
    refused_before = len(_refusals(app))
    calibration = calibrate_with_shipped_figures(folder)
    view = app.deployments.plan(people[ADMIN], _plan("gone"))
    assert view.threshold == app.deployments.live_floor(2) > 0.25  # the live floor for two people, not 1:1
    calibration.unlink()  # the pack replaced, its calibration not brought along
    with pytest.raises(UncalibratedPackError, match="make one with: openfr evaluate calibrate"):
        app.deployments.authorise(people[AUTHORISER], "gone", "ok", CONFIRMED)
    assert app.deployments.get(people[ADMIN], "gone").state == "draft"
    calibrate_with_shipped_figures(folder)
    app.deployments.authorise(people[AUTHORISER], "gone", "ok", CONFIRMED)
    calibration.unlink()
    with pytest.raises(UncalibratedPackError):
        app.deployments.start(people[OPERATOR], "gone")
    assert app.deployments.get(people[ADMIN], "gone").state == "authorised"  # never went live
    assert _refusals(app)[refused_before:] == ["use-case:deployments.authorise", "use-case:deployments.start"]


def test_a_calibration_of_other_weights_is_refused(tmp_path):
    folder = supplied_pack(tmp_path)
    card = get_pack(Settings(model_pack="onnx-dir", model_dir=folder)).card
    calibrate_with_shipped_figures(folder, embedder_sha256="0" * 64)
    with pytest.raises(
        UncalibratedPackError, match=r"other weights .*SHA-256 000000000000\.\.\., the pack's is 9cc6e4a7"
    ):
        live_floor(card, 100, 1e-4)
    calibrate_with_shipped_figures(folder, embedder_sha256="")  # one that does not say which weights: refused too
    with pytest.raises(UncalibratedPackError, match="not stated"):
        require_calibration(card)
    (folder / CALIBRATION).write_text("{half a file")
    with pytest.raises(UncalibratedPackError, match=f"unreadable identification calibration \\({CALIBRATION}: "):
        require_calibration(card)
    calibrate_with_shipped_figures(folder)  # the pack's own weights: used
    shipped = IdentificationCalibration.from_dict(json.loads((SHIPPED_CALIBRATIONS / "buffalo_s.json").read_text()))
    assert live_floor(card, 2_000, 1e-4) == shipped.threshold_for(2_000, 1e-4, 0.25) > 0.25


def test_evaluate_calibrate_writes_the_calibration_beside_the_pack_and_live_thresholds_follow_it(force, tmp_path):
    app, people, folder = force
    strangers, identities = _small_real_sets(tmp_path / "sets")
    env = {"OPENFR_MODEL_DIR": str(folder), "OPENFR_ENGINE__WORKERS": "1"}
    done = openfr(
        "evaluate", "calibrate", str(strangers), "--watchlist", str(identities), "--pack", "onnx-dir", "--json", env=env
    )
    assert done.returncode == 0, done.stderr
    written = folder / CALIBRATION
    assert json.loads(done.stdout)["calibration"] == str(written)
    data = json.loads(written.read_text())
    assert data["pack"] == "onnx-dir:force-model" and data["embedder_sha256"] == EMBEDDER.sha256
    calibration = IdentificationCalibration.from_dict(data)
    view = app.deployments.plan(people[ADMIN], _plan("calibrated"))  # the same installation: accepted now
    assert view.threshold == calibration.threshold_for(2, app.runtime.settings.live.target_fpir, 0.25)
    card = app.runtime.engine.card
    floors = [live_floor(card, n, 1e-4) for n in (10, 1_000, 100_000)]
    assert floors == sorted(floors) and floors[0] >= 0.25 and floors[-1] > floors[0]  # grows with the watchlist


def _small_real_sets(root: Path) -> tuple[Path, Path]:
    """20 labelled strangers of one group (UTKFace) and 60 LFW identities, one photo each: enough pairs to
    fit each group's tail (1,200 and 1,770), few enough to embed in seconds."""
    utk, lfw = shared("utkface_sample"), shared("lfw_view1", "images")
    with (utk / "labels.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if (r["gender"], r["race"]) == ("Female", "White")][:20]
    strangers = root / "strangers"
    (strangers / "images").mkdir(parents=True)
    for row in rows:
        shutil.copy(utk / "images" / row["file"], strangers / "images" / row["file"])
    with (strangers / "labels.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["file", "gender", "race"])
        writer.writeheader()
        writer.writerows({"file": r["file"], "gender": r["gender"], "race": r["race"]} for r in rows)
    identities = root / "identities"
    for person in sorted(p for p in lfw.iterdir() if p.is_dir())[:60]:
        (identities / person.name).mkdir(parents=True)
        shutil.copy(sorted(person.iterdir())[0], identities / person.name)
    return strangers, identities
