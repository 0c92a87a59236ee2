"""Run inside a private network namespace (see test_camera_egress.py): an allowed camera address 10.99.0.2
serving hostile answers, a service on the namespace's own 127.0.0.1 that they point at, and openfr's camera
source against each, then plain `av.open` against each (the attack reproduced, so the listener is known to
detect it). Prints one JSON report. Nothing here can reach beyond the namespace: it has only its loopback."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

from camera_servers import CountingListener, HttpCamera, RtspCamera
from openfr.live.setup import open_source
from openfr.settings import LiveSettings, Settings

CAMERA = "10.99.0.2"


def tiny_stream(path: Path) -> bytes:
    """Two seconds of 160x120 H.264 in MPEG-TS: what a camera would send, small."""
    with av.open(str(path), "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(50):
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i * 5, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path.read_bytes()


def through_openfr(url: str, settings: Settings, frames_wanted: int = 0) -> dict:
    """openfr's camera source (the path deployments take), one connection attempt."""
    health: list[tuple[str, str]] = []
    source = open_source(url, settings, lambda state, detail: health.append((state, detail)), max_attempts=1)
    frames = 0
    for _ in source.frames():
        frames += 1
        if frames >= frames_wanted:
            break
    source.stop()
    return {"frames": frames, "health": health}


def through_plain_ffmpeg(url: str) -> str:
    try:
        with av.open(url, timeout=5) as container:
            next(container.decode(video=0), None)
        return "opened"
    except Exception as exc:
        return type(exc).__name__


def main() -> None:
    home = Path(tempfile.mkdtemp())
    ts = tiny_stream(home / "camera.ts")
    settings = Settings(home=home, live=LiveSettings(camera_networks=["10.99.0.0/24"], open_timeout_s=5))
    assert not settings.live.allow_loopback_cameras
    loopback = CountingListener("127.0.0.1")
    elsewhere = f"127.0.0.1:{loopback.port}"
    http = HttpCamera(CAMERA, ts, elsewhere=f"http://{elsewhere}")
    rtsp_redirect = RtspCamera(CAMERA, redirect=f"rtsp://{elsewhere}/stolen")
    rtsp = RtspCamera(CAMERA, ts)
    attacks = {
        "http-redirect": f"{http.base}/redirect",
        "hls-playlist": f"{http.base}/live.m3u8",
        "rtsp-redirect": rtsp_redirect.url,
    }
    report: dict = {"attacks": {}, "direct": {}}
    for name, url in attacks.items():
        before = loopback.connections()
        openfr = through_openfr(url, settings)
        reached_by_openfr = loopback.connections() - before
        plain = through_plain_ffmpeg(url)
        reached_by_plain = loopback.connections() - before - reached_by_openfr
        report["attacks"][name] = {
            "openfr": {**openfr, "loopback_connections": reached_by_openfr},
            "plain": {"result": plain, "loopback_connections": reached_by_plain},
        }
    before = loopback.connections()
    report["direct"]["http"] = through_openfr(
        f"http://user:pw@{CAMERA}:{http.base.rsplit(':', 1)[1]}/camera.ts", settings, 20
    )
    report["direct"]["rtsp"] = through_openfr(rtsp.url.replace("rtsp://", "rtsp://user:pw@"), settings, 20)
    report["direct"]["loopback_connections"] = loopback.connections() - before
    report["camera_requests"] = {"http": http.requests, "rtsp": rtsp.requests}
    print(json.dumps(report))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
