"""Clips and galleries for the live tests, made from the sample photos in the model wheel (no ../shared)."""

from __future__ import annotations

import contextlib
import csv
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

from openfr.live.clips import clip_from_photos
from openfr.live.lifecycle import DeploymentPlan


def team_clip(path: Path, samples) -> Path:
    """The team photo (16 faces, Yao Ming among them) panned for 2 s at 1280x720, 25 fps."""
    return clip_from_photos(path, [samples["players"]], seconds_each=2.0)


def wanted_gallery(root: Path, samples, engine) -> tuple[Path, Path]:
    """DIR/<subject>/<images> + manifest: 'yao' (wanted, from yaoming.jpg), 'gdp' (wanted: the main face of
    gdp.jpg, who is not in the team photo) and 'other' (no watchlist category: must never be snapshotted)."""
    people = root / "people"
    for subject, image in (("yao", samples["yaoming"]), ("gdp", _main_face(samples["gdp"], engine))):
        (people / subject).mkdir(parents=True)
        Image.fromarray(image).save(people / subject / "1.png")
    (people / "other").mkdir()
    Image.fromarray(np.ascontiguousarray(samples["yaoming"][:, ::-1])).save(people / "other" / "1.png")
    manifest = root / "manifest.csv"
    with manifest.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["subject_id", "name", "category", "legal_basis", "source"])
        writer.writerow(["yao", "Yao Ming", "wanted-serious-offence", "warrant 1/2026", "PND"])
        writer.writerow(["gdp", "Test Person", "missing-person", "missing report 7", "force records"])
        writer.writerow(["other", "Not Listed", "", "", "test"])  # no watchlist category
    return people, manifest


def _main_face(image: np.ndarray, engine) -> np.ndarray:
    face = max((f for f in engine.detect(image) if f.quality.usable), key=lambda f: f.area)
    x1, y1, x2, y2 = face.box
    w, h = x2 - x1, y2 - y1
    top, left = max(0, int(y1 - h)), max(0, int(x1 - w))
    return np.ascontiguousarray(image[top : int(y2 + h), left : int(x2 + w)])


class ClipServer:
    """Serves a file over HTTP. mode 'drop': the first request gets only the first half and the connection
    is cut (a camera dropping mid-stream); 'stall': the first request gets the first half and then nothing,
    with the connection held open (a frozen camera). Later requests get the whole file, so a source that
    reconnects after each end sees a camera that never stops. `state["down"] = True` kills the camera
    (every request refused) until it is set back."""

    def __init__(self, clip: Path, mode: str = "whole"):
        data, state = clip.read_bytes(), {"requests": 0, "down": False}
        stop = self._stop = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                state["requests"] += 1
                if state["down"]:  # a dead camera: refuses every connection until it comes back
                    self.send_error(503)
                    return
                cut = mode in ("drop", "stall") and state["requests"] == 1
                body = data[: len(data) // 2] if cut else data
                self.send_response(200)
                self.send_header("Content-Type", "video/mp2t")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)
                    self.wfile.flush()
                    if cut and mode == "stall":
                        stop.wait(60)  # hold the connection open, sending nothing
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.state = state
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/camera.ts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ClipServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def a_plan(cameras: dict[str, str], /, **changes) -> DeploymentPlan:
    """A complete deployment plan over the `custody` gallery, its window open from a minute ago for an hour;
    `changes` replace any field (name, threshold, categories, ...)."""
    now = datetime.now(UTC)
    fields = dict(
        name="test-deployment",
        grounds="test of the deployment lifecycle",
        categories=["wanted-serious-offence"],
        source_gallery="custody",
        location="test square",
        location_rationale="test",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        cameras=cameras,
        public_notice={"signage": "two signs at the entrances"},
    )
    return DeploymentPlan(**{**fields, **changes})
