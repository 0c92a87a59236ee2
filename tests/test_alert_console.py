"""Alerts impossible to miss (issue 15, item 1): the score in words, the scene frame kept with an alert (and
only with an alert, other faces pixelated, removed with the alert), the pending-alert counter and title badge
of those who decide, the "Live:" line that agrees with the running cameras, and, in Debian's Chromium at a
desktop and a phone viewport, an operator who hears and sees an alert arrive, sees the stream drop and the
missed alert arrive once it resumes, and confirms an alert with the keyboard alone."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from actors import PASSWORD, console_client, console_sign_in, demo_installation, make_app
from browsers import needs_chromium, serious
from live_data import a_plan
from openfr.governance import audit
from openfr.live import lifecycle
from openfr.live.alerting import AlertStore, scene_path_for
from openfr.live.scene import SCENE_MAX_SIDE, scene_frame
from openfr.live.watchlist import WatchEntry
from openfr.live.worker import AlertEvidence
from openfr.services import Application, demo
from openfr.services.alerts import score_band
from openfr.settings import WebSettings
from openfr.store import Alert, Deployment, WatchlistEntry
from openfr.types import Quality
from openfr.web.app import create_app

browser_only = needs_chromium
LOST = "Connection lost \u2014 reconnecting\u2026"


# -- the score in words ---------------------------------------------------------------------------------------


def test_the_score_is_a_band_with_its_meaning_set_by_the_deployment_s_threshold():
    strong = score_band(0.52, 0.46)
    assert strong["label"] == "Strong"
    assert strong["text"] == "Strong (0.520; threshold 0.460): well above the threshold for this watchlist"
    assert score_band(0.47, 0.46)["label"] == "Borderline"  # where most false alerts fall
    assert "most false alerts" in score_band(0.47, 0.46)["meaning"]
    assert score_band(0.50, 0.46)["label"] == "Moderate"
    assert score_band(0.45, 0.46)["label"] == "Below threshold"
    # The same score means less against a higher threshold: the band follows the deployment, not the number.
    assert score_band(0.50, 0.30)["label"] == "Strong" and score_band(0.50, 0.48)["label"] == "Borderline"


# -- the scene frame ----------------------------------------------------------------------------------------------


def test_a_scene_frame_pixelates_every_face_but_the_matched_one(engine, samples):
    team = cv2.resize(samples["players"], None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)  # a big frame
    original = team.copy()
    faces = engine.detect(team)
    assert len(faces) >= 10
    matched = max(faces, key=lambda f: f.area)
    scene = scene_frame(team, faces, matched)
    assert max(scene.shape[:2]) == SCENE_MAX_SIDE and np.array_equal(team, original)  # the frame itself untouched
    plain = cv2.resize(team, (scene.shape[1], scene.shape[0]), interpolation=cv2.INTER_AREA)
    assert len(engine.detect(plain)) >= 10  # at this size the others would still be found...
    (left,) = engine.detect(scene)  # ...but only the matched face is left to find
    scale = SCENE_MAX_SIDE / max(team.shape[:2])
    centre = (matched.box[:2] + matched.box[2:]) / 2 * scale
    assert np.abs((left.box[:2] + left.box[2:]) / 2 - centre).max() < 10


def _operator_views(app: Application, name: str) -> list[dict]:
    return app.alerts.of_deployment(demo.sign_in(app, "demo-operator", PASSWORD), name)


def test_an_alert_keeps_its_scene_frame_beside_the_crop_until_the_purge(tmp_path, engine):
    app = make_app(tmp_path / "home")
    demo.prepare_clip(app, seconds=2.0)  # the team photo, 16 faces, Yao Ming among them
    prepared = demo.prepare(app, password=PASSWORD, deployment=True)
    home = app.runtime.home
    app.deployments.run(demo.sign_in(app, "demo-operator", PASSWORD), prepared.deployment)
    (alert,) = _operator_views(app, prepared.deployment)  # one alert, for the one wanted person
    with app.runtime.db.read() as session:
        crop = session.get(Alert, alert["id"]).crop_path
    scene = home / scene_path_for(crop)
    assert alert["scene"] and scene.parent == (home / crop).parent and scene.is_file()
    with Image.open(scene) as image:
        assert image.format == "JPEG" and max(image.size) <= SCENE_MAX_SIDE
        pixels = np.asarray(image.convert("RGB"))
    assert len(engine.detect(pixels)) <= 1  # fifteen passers-by in view: none of their faces reached the disk
    # Only the alert wrote images from the camera: its crop and its scene, nothing for the other faces.
    frames = {p for p in (home / "alerts").rglob("*") if p.is_file()}
    assert frames == {home / crop, scene}

    web = TestClient(create_app(app), base_url="https://testserver")
    console_sign_in(web, "demo-operator", PASSWORD)
    served = web.get(f"/alerts/{alert['id']}/scene.jpg")
    assert served.status_code == 200 and served.content == scene.read_bytes()
    assert "no-store" in served.headers["cache-control"]  # a face: never left in a browser's cache
    with app.runtime.db.read() as session:
        views = [e for e in audit.events(session, action="alert.image.view") if e["resource"] == f"alert:{alert['id']}"]
    assert views[-1]["actor"] == "demo-operator" and views[-1]["details"]["image"] == "scene"
    officer = TestClient(create_app(app), base_url="https://testserver")
    console_sign_in(officer, "demo-officer", PASSWORD)
    assert officer.get(f"/alerts/{alert['id']}/scene.jpg").status_code == 403
    assert web.get("/alerts/999999/scene.jpg").status_code == 404

    # The start-up sweep keeps a scene whose alert exists and removes one whose alert never committed.
    orphan = scene.parent / "feedface.scene.jpg"
    orphan.write_bytes(scene.read_bytes())
    assert app.alerts.sweep_orphan_crops() == 1 and not orphan.exists() and scene.is_file()

    # Retention removes the alert, its crop and its scene together.
    app.runtime.settings.retention.alert_days = 0
    done = app.retention.purge(demo.sign_in(app, "demo-admin", PASSWORD))
    assert done["alerts_deleted"] == 1
    assert not (home / crop).exists() and not scene.exists()


# -- counter, title badge, cards and the Live: line over HTTP ------------------------------------------------------


def _evidence(app: Application, deployment_id: int, camera: str, score: float, threshold: float, samples):
    """What a camera hands the alert store: the crop, and a scene frame (here the team photo, scaled)."""
    with app.runtime.db.read() as session:
        entry = session.scalars(
            sa.select(WatchlistEntry).where(WatchlistEntry.deployment_id == deployment_id).limit(1)
        ).first()
    watch = (
        WatchEntry(entry.subject_ref, entry.display_name, entry.category, app.runtime.home / entry.image_path, entry.id)
        if entry is not None
        else WatchEntry("S-1", "Someone Named", "missing-person", None)
    )
    quality = Quality(80, 30, 100, 0, 0, 0, 0.9)
    crop = np.ascontiguousarray(samples["yaoming"][:200, :200])
    scene = cv2.resize(samples["players"], (640, 360), interpolation=cv2.INTER_AREA)
    return AlertEvidence(camera, 1, watch, score, threshold, quality, 3, 0.1, 1, time.monotonic(), crop, None, scene)


def raise_alert(app: Application, deployment_id: int, samples, camera: str = "cam-1", score: float = 0.52,
                threshold: float = 0.46) -> int:  # fmt: skip
    """Stored and announced exactly as a camera's alert is (AlertStore: files, row, then the bus)."""
    store = AlertStore(app.runtime.db, app.runtime.home, app.runtime.bus, deployment_id)
    alert = store(_evidence(app, deployment_id, camera, score, threshold, samples))
    store.close()
    assert alert is not None
    return alert.id


def _deployment(app: Application, name: str, location: str, camera: str = "cam-1") -> int:
    with app.runtime.db.transaction() as session:
        now = lifecycle.now_utc()
        plan = a_plan({camera: "rtsp://cam.example/1"}, name=name, categories=["missing-person"],
                      source_gallery=demo.GALLERY, location=location, starts_at=now, threshold=0.46)  # fmt: skip
        return lifecycle.create(session, plan, created_by="test", floor=0.0, box=app.runtime.secret_box).id


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("alerts-http"))
    demo_installation(app, password=PASSWORD, deployment=False)
    return app, create_app(app)


def _signed_in(web, name: str) -> TestClient:
    return console_client(web, name, PASSWORD, htmx=False)


def test_two_deployments_cam_1_are_told_apart_and_each_card_states_its_band(http, samples):
    app, web = http
    north = _deployment(app, "north-gate", "North Gate, Market Street")
    south = _deployment(app, "south-gate", "South Gate, Station Road")
    strong = raise_alert(app, north, samples, score=0.52)
    borderline = raise_alert(app, south, samples, score=0.47)
    page = _signed_in(web, "demo-operator").get("/console").text
    cards = dict(re.findall(r'<article class="alert-card[^"]*" id="alert-(\d+)"(.*?)</article>', page, re.S))
    assert "north-gate" in cards[str(strong)] and "North Gate, Market Street" in cards[str(strong)]
    assert "south-gate" in cards[str(borderline)] and "South Gate, Station Road" in cards[str(borderline)]
    assert "south-gate" not in cards[str(strong)] and "north-gate" not in cards[str(borderline)]
    assert (
        '<strong class="band">Strong</strong> (0.520; threshold 0.460): well above the threshold' in cards[str(strong)]
    )
    assert ">Borderline</strong> (0.470; threshold 0.460): just above the threshold" in cards[str(borderline)]
    assert f'src="/alerts/{strong}/scene.jpg?grant=' in cards[str(strong)]  # the scene frame beside the crops


def test_those_who_decide_see_how_many_alerts_wait_on_every_page_and_in_the_title(http, samples):
    app, web = http
    operator, auditor = _signed_in(web, "demo-operator"), _signed_in(web, "demo-auditor")
    deployment = _deployment(app, "counter-test", "Counter Street")
    raise_alert(app, deployment, samples)
    waiting = app.alerts.awaiting_decision(demo.sign_in(app, "demo-operator", PASSWORD))
    assert waiting >= 1
    badge = operator.get("/alerts/pending")
    assert badge.status_code == 200 and f'data-pending="{waiting}"' in badge.text
    assert f"{waiting} alert" in badge.text and 'class="pending-badge some"' in badge.text
    for path in ("/", "/console", "/deployments", "/account"):
        page = operator.get(path).text
        assert re.search(rf"<title>\({waiting}\) ", page), path
        assert f'id="pending-badge" href="/console" class="pending-badge some" data-pending="{waiting}"' in page
    raise_alert(app, deployment, samples)  # the fragment, polled by every page, follows at once
    assert f'data-pending="{waiting + 1}"' in operator.get("/alerts/pending").text
    # Auditors read alerts but do not decide: no counter, no badge, and the fragment is refused.
    assert auditor.get("/alerts/pending").status_code == 403
    assert "pending-badge" not in auditor.get("/console").text and "<title>(" not in auditor.get("/").text


def test_the_live_line_lists_running_cameras_only_and_follows_them(http):
    app, web = http
    operator = _signed_in(web, "demo-operator")
    deployment = _deployment(app, "line-test", "Line Street", camera="cam-9")
    assert "No deployment's cameras are running." in operator.get("/console/live").text
    with app.runtime.db.transaction() as session:  # live, but its cameras were stopped: not running
        session.get(Deployment, deployment).state = "live"
    line = operator.get("/console/live").text
    assert "line-test" not in line and "Checked " in line and " UTC." in line
    with app.runtime.db.transaction() as session:  # a camera run holds the lease now
        lifecycle.claim(session.get(Deployment, deployment), lifecycle.lease_owner())
    line = operator.get("/console/live").text
    assert 'Live: <a href="/deployments/line-test">line-test</a> (Line Street; camera cam-9)' in line
    assert "line-test" in operator.get("/console").text.split('id="live-line"')[1].split("</p>")[0]
    with app.runtime.db.transaction() as session:  # the run ended and gave the lease back
        d = session.get(Deployment, deployment)
        lifecycle.release(d, d.run_owner)
    assert "line-test" not in operator.get("/console/live").text
    assert _signed_in(web, "demo-officer").get("/console/live").status_code == 403


# -- in the browser ------------------------------------------------------------------------------------------------


class RestartableConsole:
    """The console on a fixed loopback port that can go away and come back (a network or server outage the
    open event stream notices), over the same application and database."""

    def __init__(self, app: Application):
        self.web = create_app(app)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.server, self.thread = None, None

    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(
            self.web, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started, "the console server did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        assert not self.thread.is_alive(), "the console server did not stop"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[RestartableConsole, Application, int]]:
    # Other pages' counters ask every second (10 s by default), so a test waits on the poll, not on the clock.
    app = make_app(tmp_path_factory.mktemp("alert-console"), web=WebSettings(pending_poll_s=1))
    prepared = demo_installation(app, password=PASSWORD, deployment=True)
    with app.runtime.db.read() as session:
        deployment_id = session.scalar(sa.select(Deployment.id).where(Deployment.name == prepared.deployment))
    console = RestartableConsole(app)
    console.start()
    try:
        yield console, app, deployment_id
    finally:
        console.stop()
        app.runtime.cameras.shutdown()


VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 412, "height": 915}, "is_mobile": True, "has_touch": True},
}
# Desktop notifications recorded instead of shown, and a console that is not the window in front (a
# notification is for an operator looking elsewhere).
NOTIFICATIONS = """
(() => {
  const shown = [];
  class Recorded {
    constructor(title, options) {
      shown.push({ title: title, body: (options || {}).body });
      document.documentElement.setAttribute("data-notifications", JSON.stringify(shown));
    }
    close() {}
    static requestPermission() { Recorded.permission = "granted"; return Promise.resolve("granted"); }
  }
  Recorded.permission = "default";
  window.Notification = Recorded;
  document.hasFocus = () => false;
})();
"""


@pytest.fixture(params=list(VIEWPORTS))
def operator_console(request, site, chromium):
    """The demo operator's console at a desk's or a phone's size, signed in, its alert stream open."""
    from playwright.sync_api import expect

    console, _, _ = site
    page = chromium.signed_in(
        console.base, "demo-operator", PASSWORD, init_script=NOTIFICATIONS, **VIEWPORTS[request.param]
    )
    page.goto("/console")
    expect(page.locator("#alerts")).to_have_attribute("data-stream-state", "open")
    yield page
    page.context.close()


def _tab_to(page, label: str, presses: int) -> bool:
    """Press Tab, at most `presses` times, until the element named `label` has the keyboard's focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.getAttribute('aria-label')") == label:
            return True
    return False


def _waiting(app: Application) -> int:
    return app.alerts.awaiting_decision(demo.sign_in(app, "demo-operator", PASSWORD))


@browser_only
def test_an_arriving_alert_is_heard_seen_counted_and_notified_without_a_name(site, operator_console, samples):
    from playwright.sync_api import expect

    _, app, deployment_id = site
    page = operator_console
    elsewhere = page.context.new_page()  # another page of the console: its counter polls
    elsewhere.goto("/deployments")
    page.get_by_role("button", name="Enable desktop notifications").click()
    expect(page.locator("#notify-state")).to_have_text("Desktop notifications are on.")
    alert = raise_alert(app, deployment_id, samples, camera="demo-camera")
    waiting = _waiting(app)
    card = page.locator(f"#alert-{alert}")
    expect(card).to_be_visible()
    expect(card).to_contain_text(demo.DEPLOYMENT)
    expect(card).to_contain_text("Strong (0.520; threshold 0.460)")
    for image in ("scene", "crop", "watchlist"):
        picture = card.locator(f"img[src*='/{image}.jpg?grant=']")  # fetched with the card's grant
        expect(picture).to_have_js_property("complete", True)
        assert picture.evaluate("img => img.naturalWidth > 0"), f"the {image} image did not load"
    expect(page).to_have_title(re.compile(rf"^\({waiting}\) Live console"))
    expect(page.locator("#pending-badge")).to_have_text(
        f"{waiting} alert{'s await' if waiting > 1 else ' awaits'} a decision"
    )
    expect(page.locator("#pending-badge")).to_be_visible()
    expect(page.locator("#announcer")).to_have_text(
        f"New alert on {demo.DEPLOYMENT} / camera demo-camera, awaiting a decision."
    )
    expect(page.locator("#alerts")).to_have_attribute("data-chimes", "1")
    # One notification, exactly this: where, never who (it may show on a lock screen or a shared monitor).
    notified = (
        f'[{{"title":"openfr: alert awaiting a decision","body":"New alert on {demo.DEPLOYMENT} / demo-camera"}}]'
    )
    expect(page.locator("html")).to_have_attribute("data-notifications", notified)
    expect(elsewhere.locator("#pending-badge")).to_have_attribute("data-pending", str(waiting))
    expect(elsewhere).to_have_title(re.compile(rf"^\({waiting}\) Deployments"))
    assert serious(page) == [], "the console with an alert card"

    # Muted, and still muted after a reload: the next alert makes no sound but is still announced.
    page.get_by_role("button", name="Mute alert sound").click()
    page.reload()
    expect(page.locator("#alerts")).to_have_attribute("data-stream-state", "open")
    expect(page.get_by_role("button", name="Unmute alert sound")).to_be_visible()
    second = raise_alert(app, deployment_id, samples, camera="demo-camera")
    expect(page.locator(f"#alert-{second}")).to_be_visible()
    expect(page.locator("#announcer")).to_contain_text("New alert on")
    assert page.locator("#alerts").get_attribute("data-chimes") is None
    page.get_by_role("button", name="Unmute alert sound").click()


@browser_only
def test_a_lost_stream_shows_reconnecting_and_brings_the_missed_alert_once(site, operator_console, samples):
    from playwright.sync_api import expect

    console, app, deployment_id = site
    page = operator_console
    banner = page.locator("#stream-banner")
    expect(banner).to_be_hidden()
    console.stop()  # the server goes away; the open stream breaks
    try:
        expect(banner).to_have_text(LOST)
        expect(banner).to_be_visible()
        missed = raise_alert(app, deployment_id, samples, camera="demo-camera")  # while the console is cut off
        with page.expect_event("requestfailed", lambda r: "/console/events" in r.url):  # a reconnection fails
            pass
        expect(banner).to_have_text(LOST)
        assert serious(page) == [], "the console while reconnecting"
    finally:
        console.start()
    expect(page.locator(f"#alert-{missed}")).to_be_visible(timeout=30_000)
    expect(banner).to_be_hidden()
    expect(page.locator("#alerts")).to_have_attribute("data-stream-state", "open")
    after = raise_alert(app, deployment_id, samples, camera="demo-camera")  # live again
    expect(page.locator(f"#alert-{after}")).to_be_visible()
    # One more alert as a marker: the stream delivers in order, so once it is shown any second copy of the
    # two before it would have been too.
    marker = raise_alert(app, deployment_id, samples, camera="demo-camera")
    expect(page.locator(f"#alert-{marker}")).to_be_visible()
    for alert in (missed, after):  # each card once, however it came
        assert page.locator(f"[data-alert='{alert}']").count() == 1


@browser_only
def test_an_operator_confirms_an_alert_with_the_keyboard_alone_and_keeps_their_place(site, operator_console, samples):
    from playwright.sync_api import expect

    _, app, deployment_id = site
    page = operator_console
    alert = raise_alert(app, deployment_id, samples, camera="demo-camera")
    card = page.locator(f"#alert-{alert}")
    expect(card).to_be_visible()
    page.locator("body").focus()
    assert _tab_to(page, f"Confirm match, alert {alert}", 80), "Tab never reached the card's Confirm button"
    page.keyboard.press("Enter")
    expect(card.locator("h3")).to_contain_text("confirmed")
    expect(card).to_be_focused()  # the updated card, not the top of the page
    expect(page.locator("#announcer")).to_contain_text(f"Alert {alert}")
    page.keyboard.press("Tab")  # onwards, inside the same card: what happened next
    assert page.evaluate("() => document.activeElement.name") == "outcome"
    page.keyboard.press("ArrowDown")
    assert _tab_to(page, f"Record outcome, alert {alert}", 3)
    page.keyboard.press("Enter")
    expect(card.locator(".outcome")).to_be_visible()
    expect(card).to_be_focused()
    with app.runtime.db.read() as session:
        stored = session.get(Alert, alert)
        assert stored.state == "confirmed" and stored.adjudicated_by == "demo-operator" and stored.outcome
