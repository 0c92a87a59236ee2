"""Fault injection against a running deployment: what is lost, what is left behind, how fast it resumes.

    sudo .venv/bin/python benchmarks/faults.py [--load-seconds 20] [--json] [--only "40 API clients"]

Cameras are HTTP streams paced at real time (an MPEG-TS clip from the model wheel's team photo, with Yao
Ming in view and then a blank second, so that each loop of the clip raises an alert), served on loopback.
Scenarios, each on a fresh installation:

1. kill -9 of `openfr serve` while a deployment runs, then a restart: seconds until the cameras run again,
   alerts committed before the kill still there, the run's checkpointed counters kept, orphan files.
2. The alert crop folder turns read-only (a read-only mount over it) for a while, then writable again:
   alerts raised meanwhile, alerts stored afterwards, alerts lost, orphan files.
3. The disk fills up (a 256 KiB tmpfs over the crop folder, filled), then space is freed: the same figures;
   and an upload enrolment on a full image store: the error, and orphan files.
4. 40 API clients (20 searching, 20 signing in, each in a loop) against a server running two cameras:
   the cameras' frame rate under load against unloaded, request statuses (no 5xx but deliberate 503s),
   latencies, the server's memory.
5. A camera dies for 10 s and comes back: seconds from its return to frames flowing again.

Mounting needs root (CAP_SYS_ADMIN); without it scenarios 2 and 3 are skipped with a reason.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import psutil
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the servers (web_server) and the deployment plan (live_data) of the tests

from live_data import a_plan  # noqa: E402
from openfr.engine.packs.base import verify  # noqa: E402
from openfr.engine.packs.buffalo_s import SAMPLES  # noqa: E402
from openfr.governance.credentials import TokenKind  # noqa: E402
from openfr.imageio import load_image  # noqa: E402
from openfr.live.alerting import scene_path_for  # noqa: E402
from openfr.live.clips import clip_from_photos  # noqa: E402
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST  # noqa: E402
from openfr.runtime import Runtime  # noqa: E402
from openfr.services import Application  # noqa: E402
from openfr.services.galleries import EnrolFields  # noqa: E402
from openfr.settings import EngineSettings, LiveSettings, Settings, WebSettings  # noqa: E402
from openfr.store import Alert, Deployment, SourceImage  # noqa: E402
from web_server import free_port, serve, until  # noqa: E402

PASSWORD = "fault injection passphrase"
# The server's settings, as `installation` gives them to the application in this process: the cameras are
# served on loopback, which an installation refuses unless told otherwise.
SERVER_SETTINGS = {
    "OPENFR_LIVE__HEARTBEAT_S": "1",
    "OPENFR_LIVE__ALERT_COOLDOWN_S": "0",
    "OPENFR_LIVE__ALLOW_LOOPBACK_CAMERAS": "true",
}
TEMPORARY = "set by an administrator 0"  # replaced at first sign-in


def sample(name: str) -> np.ndarray:
    return load_image(verify(SAMPLES[name].locate(), SAMPLES[name].sha256))


class PacedCamera:
    """An HTTP camera sending a clip at its real-time rate, again on every connection; `down` refuses all."""

    def __init__(self, clip: Path, seconds: float):
        data, state = clip.read_bytes(), {"down": False, "connections": 0}
        self.state = state

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if state["down"]:
                    self.send_error(503)
                    return
                state["connections"] += 1
                self.send_response(200)
                self.send_header("Content-Type", "video/mp2t")
                self.end_headers()
                started, chunk = time.monotonic(), 32 * 1024
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    for sent in range(0, len(data), chunk):
                        if state["down"]:
                            return
                        due = started + seconds * sent / len(data)
                        time.sleep(max(0.0, due - time.monotonic()))
                        self.wfile.write(data[sent : sent + chunk])
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/camera.ts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_clip(folder: Path) -> tuple[Path, float]:
    """The team photo (Yao Ming in view) for 2 s, grey for 1.5 s, the team photo again: each sighting is a
    new track and a new alert (the cool-down is off in these installations)."""
    path = folder / "camera.ts"
    clip_from_photos(path, [sample("players"), sample("players")], seconds_each=2.0, blank_between=1.5)
    return path, 5.5


def _first_sign_in(app: Application, name: str) -> None:
    done = app.accounts.sign_in(name, TEMPORARY, None, TokenKind.CLI)
    app.accounts.change_own_password(done.principal, TEMPORARY, PASSWORD, keep=done.token)


def installation(home: Path, camera_urls: list[str], **settings) -> Application:
    settings.setdefault("engine", EngineSettings(workers=1))
    live = LiveSettings(heartbeat_s=1.0, alert_cooldown_s=0.0, allow_loopback_cameras=True)
    app = Application(Runtime(Settings(home=home, live=live, **settings)))
    # Accounts as on a real installation: two administrators (dual control), each other account created by
    # one, approved by the other where privileged, and its temporary password replaced at first sign-in.
    app.accounts.create_first_administrator("admin", PASSWORD, by="faults benchmark")
    app.accounts.create_first_administrator("admin2", TEMPORARY, by="faults benchmark")
    _first_sign_in(app, "admin2")
    admin, second = sign_in(app, "admin"), sign_in(app, "admin2")
    for name, role in (("authoriser", "authorising-officer"), ("operator", "operator"), ("searcher", "investigator")):
        rank = "superintendent" if role == "authorising-officer" else None
        if app.staff.create_user(admin, name, role, TEMPORARY, rank=rank)["awaiting_approval"]:
            app.staff.approve(second, name)
        _first_sign_in(app, name)
    portrait = home.parent / "yao.jpg"
    from PIL import Image

    Image.fromarray(sample("yaoming")).save(portrait)
    wanted = EnrolFields("custody", "YAO-1", "faults benchmark", category="wanted-serious-offence")
    app.galleries.create(admin, "custody", "faults benchmark", ["rfr", "live"])  # searched, and a live source
    app.galleries.enrol_upload(admin, wanted, filename="yao.jpg", data=portrait.read_bytes())
    plan = a_plan(
        {f"cam-{i}": url for i, url in enumerate(camera_urls)},
        name="faults",
        grounds="fault injection",
        location="loopback",
        location_rationale="benchmark",
        public_notice={"signage": "benchmark"},
        ends_at=datetime.now(UTC) + timedelta(hours=2),
    )
    app.deployments.plan(admin, plan)
    confirmed = dict.fromkeys(AUTHORISATION_CHECKLIST, True)  # the checklist, every item answered yes
    app.deployments.authorise(sign_in(app, "authoriser"), "faults", "benchmark", confirmed)
    return app


def sign_in(app: Application, name: str):
    return app.accounts.sign_in(name, PASSWORD, None, TokenKind.CLI).principal


def deployment(app: Application) -> Deployment:
    with app.runtime.db.read() as session:
        return session.scalars(sa.select(Deployment).where(Deployment.name == "faults")).one()


def alert_rows(app: Application) -> list[Alert]:
    with app.runtime.db.read() as session:
        return list(session.scalars(sa.select(Alert).order_by(Alert.id)))


def orphans(app: Application) -> int:
    """Files that no row references: stored images, and alert crops with the scene frames beside them (an
    alert row names its crop; its scene frame, if it has one, lies beside it: `scene_path_for`)."""
    home = app.runtime.home
    images = {p.relative_to(home).as_posix() for p in (home / "images").rglob("*") if p.is_file()}
    alert_files = {p.relative_to(home).as_posix() for p in (home / "alerts").rglob("*.jpg")}
    with app.runtime.db.read() as session:
        kept = set(session.scalars(sa.select(SourceImage.stored_path).where(SourceImage.stored_path.is_not(None))))
        crops = set(session.scalars(sa.select(Alert.crop_path).where(Alert.crop_path.is_not(None))))
    kept |= crops | {scene_path_for(crop) for crop in crops}
    return len((images | alert_files) - kept)


def kill_and_restart(root: Path, clip: Path, seconds: float) -> dict:
    camera = PacedCamera(clip, seconds)
    app = installation(root / "home", [camera.url])
    port = free_port()
    server = serve(app.runtime.home, port, **SERVER_SETTINGS)
    try:
        login = {"username": "operator", "password": PASSWORD}
        token = httpx.post(f"http://127.0.0.1:{port}/api/login", json=login).json()
        headers = {"Authorization": f"Bearer {token['token']}"}
        started = httpx.post(f"http://127.0.0.1:{port}/api/deployments/faults/start", headers=headers, timeout=60)
        assert started.status_code == 200, started.text
        until(lambda: len(alert_rows(app)) >= 2, 60, "two alerts")
        until(lambda: (deployment(app).run_counters or {}).get("cam-0", {}).get("frames"), 10, "a checkpoint")
        before = [a.id for a in alert_rows(app)]
        checkpoint = deployment(app).run_counters["cam-0"]["frames"]
        server.send_signal(signal.SIGKILL)
        server.wait()
        killed_owner, restarted_at = deployment(app).run_owner, time.monotonic()
        server = serve(app.runtime.home, port, **SERVER_SETTINGS)
        until(lambda: deployment(app).run_owner not in (None, killed_owner), 60, "the deployment resumed")
        resumed_s = time.monotonic() - restarted_at
        until(lambda: len(alert_rows(app)) > len(before), 60, "an alert after the restart")
        frames_again_s = time.monotonic() - restarted_at
        after = [a.id for a in alert_rows(app)]
        kept = deployment(app).counters.get("cam-0", {}).get("frames", 0)
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    finally:  # a scenario that fails leaves no server running
        if server.poll() is None:
            server.kill()
    camera.close()
    return {
        "alerts_before_kill": len(before),
        "alerts_lost": len(set(before) - set(after)),
        "seconds_restart_to_resumed": round(resumed_s, 1),
        "seconds_restart_to_next_alert": round(frames_again_s, 1),
        "checkpointed_frames": checkpoint,
        "frames_kept_in_totals": kept,
        "orphan_files": orphans(app),
    }


def mount(target: Path, options: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True)


def umount(target: Path) -> None:
    subprocess.run(["umount", str(target)], check=True)


def store_failure(root: Path, clip: Path, seconds: float, kind: str) -> dict:
    camera = PacedCamera(clip, seconds)
    app = installation(root / "home", [camera.url])
    operator = sign_in(app, "operator")
    crops = app.runtime.home / "alerts" / str(deployment(app).id)
    health = app.runtime.bus.subscribe("camera.health")
    if kind == "read-only":
        mount(crops, "ro,size=1m")
    else:
        mount(crops, "size=256k")
        with contextlib.suppress(OSError), (crops / "filler").open("wb") as fh:
            fh.write(b"\0" * 1024 * 1024)  # until the disk is full
    run = app.deployments.start(operator, "faults")
    until(lambda: run.result.counters.get("cam-0") and run.result.counters["cam-0"].alerts >= 2, 60, "alerts raised")
    raised_during = run.result.counters["cam-0"].alerts
    stored_during = len(alert_rows(app))
    umount(crops)  # writable (and empty) again
    repaired = time.monotonic()
    until(lambda: len(alert_rows(app)) >= raised_during, 60, "the backlog stored")
    backlog_s = time.monotonic() - repaired
    app.deployments.stop(operator, "faults")
    until(lambda: not app.runtime.cameras.is_running(deployment(app).id), 30, "stopped")
    raised = deployment(app).counters["cam-0"]["alerts"]
    states = [e.data["state"] for e in iter(lambda: health.get(timeout=0), None) if e.data["camera"] == "alert store"]
    result = {
        "alerts_raised": raised,
        "stored_while_failing": stored_during,
        "stored_in_the_end": len(alert_rows(app)),
        "alerts_lost": raised - len(alert_rows(app)),
        "seconds_repair_to_backlog_stored": round(backlog_s, 1),
        "console_told": states[:1] + states[-1:],
        "orphan_files": orphans(app),
    }
    if kind == "disk-full":  # an upload enrolment onto a full image store
        store = app.runtime.home / "images"
        mount(store, "size=64k")
        with contextlib.suppress(OSError), (store / "filler").open("wb") as fh:
            fh.write(b"\0" * 1024 * 1024)
        admin = sign_in(app, "admin")
        photo = (root / "yao.jpg").read_bytes()
        try:
            app.galleries.enrol_upload(admin, EnrolFields("custody", "NEW-1", "test"), filename="y.jpg", data=photo)
            enrol_error = None
        except OSError as exc:
            enrol_error = f"{type(exc).__name__}: {exc.strerror}"
        files_left = sorted(p.name for p in store.rglob("*") if p.is_file() and p.name != "filler")
        umount(store)
        result["enrolment_on_full_disk"] = {"error": enrol_error, "files_left": files_left}
    camera.close()
    return result


def under_load(root: Path, clip: Path, seconds: float, load_s: float) -> dict:
    from web_server import running_console

    cameras = [PacedCamera(clip, seconds), PacedCamera(clip, seconds)]
    engine = EngineSettings(workers=1, threads=1)  # as `openfr serve` runs it: one model thread per request
    app = installation(root / "home", [c.url for c in cameras], web=WebSettings(), engine=engine)
    operator = sign_in(app, "operator")
    app.runtime.engine  # noqa: B018 - loaded before anything is timed
    photo = (root / "yao.jpg").read_bytes()
    process = psutil.Process()
    with running_console(app) as base:
        run = app.deployments.start(operator, "faults")
        until(lambda: run.result.counters.get("cam-1") and run.result.counters["cam-1"].frames > 50, 60, "cameras")

        def rate(duration: float) -> float:
            before = sum(c.frames for c in run.result.counters.values())
            time.sleep(duration)
            return (sum(c.frames for c in run.result.counters.values()) - before) / duration / len(cameras)

        unloaded = rate(10)
        memory_before = process.memory_info().rss
        stop, results = threading.Event(), []

        def client(kind: str) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                token = http.post("/api/login", json={"username": "searcher", "password": PASSWORD})
                while token.status_code == 503 and not stop.is_set():
                    time.sleep(float(token.headers.get("Retry-After", "1")))
                    token = http.post("/api/login", json={"username": "searcher", "password": PASSWORD})
                headers = {"Authorization": f"Bearer {token.json()['token']}"} if token.status_code == 200 else {}
                while not stop.is_set():
                    started = time.monotonic()
                    if kind == "search":
                        files = {"image": ("p.jpg", photo, "image/jpeg")}
                        data = {"gallery": "custody", "reason": "load test"}
                        answer = http.post("/api/search", data=data, files=files, headers=headers)
                    else:
                        answer = http.post("/api/login", json={"username": "searcher", "password": PASSWORD})
                    results.append((kind, answer.status_code, time.monotonic() - started))
                    if answer.status_code == 503:
                        time.sleep(float(answer.headers.get("Retry-After", "1")))

        peak = [memory_before]
        with ThreadPoolExecutor(40) as pool:
            for i in range(40):
                pool.submit(client, "search" if i % 2 == 0 else "login")
            loaded = rate(load_s)
            peak.append(process.memory_info().rss)
            stop.set()
        app.deployments.stop(operator, "faults")
    for camera in cameras:
        camera.close()

    def summary(kind: str) -> dict:
        mine = [r for r in results if r[0] == kind]
        ok = sorted(t for _, code, t in mine if code == 200)
        return {
            "requests": len(mine),
            "ok": len(ok),
            "503": sum(1 for _, code, _ in mine if code == 503),
            "other_5xx": sum(1 for _, code, _ in mine if code >= 500 and code != 503),
            "p50_ms": round(statistics.median(ok) * 1000) if ok else None,
            "p95_ms": round(float(np.percentile(ok, 95)) * 1000) if ok else None,
        }

    return {
        "camera_fps_unloaded": round(unloaded, 1),
        "camera_fps_under_load": round(loaded, 1),
        "share_kept": round(loaded / unloaded, 3),
        "search": summary("search"),
        "login": summary("login"),
        "server_rss_mb": {"before": round(memory_before / 2**20), "peak": round(max(peak) / 2**20)},
    }


def camera_death(root: Path, clip: Path, seconds: float) -> dict:
    camera = PacedCamera(clip, seconds)
    app = installation(root / "home", [camera.url])
    operator = sign_in(app, "operator")
    run = app.deployments.start(operator, "faults")
    until(lambda: run.result.counters.get("cam-0") and run.result.counters["cam-0"].frames > 30, 60, "frames")
    camera.state["down"] = True
    time.sleep(10)
    frames = run.result.counters["cam-0"].frames
    camera.state["down"] = False
    back = time.monotonic()
    until(lambda: run.result.counters["cam-0"].frames > frames + 5, 60, "frames again")
    resumed = time.monotonic() - back
    app.deployments.stop(operator, "faults")
    camera.close()
    return {"seconds_down": 10, "seconds_from_return_to_frames": round(resumed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", action="append", metavar="NAME", help="run this scenario only (repeatable)")
    args = parser.parse_args()
    can_mount = os.geteuid() == 0
    with tempfile.TemporaryDirectory(prefix="openfr-faults-") as tmp:
        root = Path(tmp)
        clip, seconds = make_clip(root)
        results: dict = {
            "command": "python benchmarks/faults.py " + " ".join(sys.argv[1:]),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        }
        scenarios = {
            "kill -9 and restart": lambda d: kill_and_restart(d, clip, seconds),
            "alert crops read-only": lambda d: store_failure(d, clip, seconds, "read-only"),
            "disk full": lambda d: store_failure(d, clip, seconds, "disk-full"),
            "40 API clients": lambda d: under_load(d, clip, seconds, args.load_seconds),
            "camera death and return": lambda d: camera_death(d, clip, seconds),
        }
        unknown = set(args.only or ()) - scenarios.keys()
        if unknown:
            parser.error(f"no scenario named {', '.join(sorted(unknown))}; the scenarios: {', '.join(scenarios)}")
        for name, scenario in scenarios.items():
            if args.only and name not in args.only:
                continue
            if name in ("alert crops read-only", "disk full") and not can_mount:
                results[name] = {"skipped": "mounting a tmpfs needs root"}
                continue
            folder = root / name.replace(" ", "-")
            folder.mkdir()
            results[name] = scenario(folder)
            print(json.dumps({name: results[name]}), flush=True)
    print(json.dumps(results, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
