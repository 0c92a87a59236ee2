"""Camera connections cannot leave the allowed networks, whatever the stream says (issue 21, finding 2).

The proof runs in a private network namespace that the test creates (`unshare -rn`): an allowed camera
address 10.99.0.2 answers with an HTTP redirect, an HLS playlist and an RTSP redirect, each pointing at a
service on 127.0.0.1; openfr's camera source must fail cleanly and that service see no connection, while
plain FFmpeg (the attack reproduced) reaches it every time. No traffic can leave the namespace: it has only
its loopback interface.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from camera_servers import HttpCamera, RtspCamera, tls_context
from egress_namespace import tiny_stream
from openfr.errors import BadInputError
from openfr.live.egress import (
    CameraRefusedError,
    CameraRules,
    HttpReplyCheck,
    RtspReplyCheck,
    _RefusalError,
    open_camera,
)
from openfr.live.setup import camera_source
from openfr.logs import protect
from openfr.settings import LiveSettings, Settings

TESTS = Path(__file__).parent
IP = shutil.which("ip") or "/usr/sbin/ip"


def _namespace_problem() -> str | None:
    if shutil.which("unshare") is None or not Path(IP).exists():
        return "needs unshare (util-linux) and ip (iproute2)"
    probe = subprocess.run(["unshare", "-rn", IP, "link", "set", "lo", "up"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create a network namespace here: {probe.stderr.strip()}"
    return None


@pytest.mark.skipif((problem := _namespace_problem()) is not None, reason=problem or "")
def test_a_redirect_or_playlist_on_an_allowed_camera_never_reaches_another_address(tmp_path):
    inside = f"{IP} link set lo up && {IP} addr add 10.99.0.2/32 dev lo && exec {sys.executable} egress_namespace.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENFR_")}  # loopback cameras not allowed
    env |= {"OPENFR_HOME": str(tmp_path), "PYTHONPATH": str(TESTS)}
    done = subprocess.run(
        ["unshare", "-rn", "sh", "-c", inside], cwd=TESTS, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    for name, attack in report["attacks"].items():
        # Plain FFmpeg follows the camera's answer to the service on loopback: the attack is real ...
        assert attack["plain"]["loopback_connections"] >= 1, (name, attack)
        # ... and through openfr it never gets there: the camera fails, in words, at its one attempt.
        assert attack["openfr"]["loopback_connections"] == 0, (name, attack)
        assert attack["openfr"]["frames"] == 0
        [(state, detail)] = attack["openfr"]["health"]
        assert state == "failed" and "refused" in detail and "direct RTSP or HTTP stream" in detail, detail
    assert "redirect (HTTP 302)" in report["attacks"]["http-redirect"]["openfr"]["health"][0][1]
    assert "playlist" in report["attacks"]["hls-playlist"]["openfr"]["health"][0][1]
    assert "redirect (RTSP 302)" in report["attacks"]["rtsp-redirect"]["openfr"]["health"][0][1]
    # A camera that streams directly still works through the gate, over HTTP and over RTSP (TCP).
    for kind in ("http", "rtsp"):
        assert report["direct"][kind]["frames"] == 20
        first, *after = report["direct"][kind]["health"]
        assert first == ["healthy", "connected (h264)"]
        # The 50-frame clip may end before the 20th frame is taken (a live source decodes ahead): only that.
        assert all(detail == "stream ended" for _, detail in after), after
    assert report["direct"]["loopback_connections"] == 0
    assert [method for method, _ in report["camera_requests"]["rtsp"]] == ["OPTIONS", "DESCRIBE", "SETUP", "PLAY"]


def _frames(url: str, wanted: int = 20) -> int:
    frames = 0
    with open_camera(url, CameraRules(allow_loopback=True, connect_timeout_s=5), (5.0, 5.0)) as container:
        for _ in container.decode(video=0):
            frames += 1
            if frames == wanted:
                break
    return frames


def test_the_gate_reads_cameras_over_tls_and_behind_a_password(tmp_path):
    ts, tls = tiny_stream(tmp_path / "camera.ts"), tls_context(tmp_path)
    https, rtsps, http = (
        HttpCamera("127.0.0.1", ts, tls=tls),
        RtspCamera("127.0.0.1", ts, tls=tls),
        HttpCamera("127.0.0.1", ts),
    )
    try:
        assert _frames(f"{https.base}/camera.ts") == 20  # TLS ends at the gate, which then reads the answers
        assert _frames(rtsps.url) == 20
        with pytest.raises(CameraRefusedError, match=r"redirect \(HTTP 302\)"):
            _frames(f"{https.base}/redirect")
        assert _frames(http.base.replace("http://", "http://user:pw@") + "/private.ts") == 20
        assert http.requests == ["/private.ts", "/private.ts"]  # 401, then with the password: both through the gate
    finally:
        for camera in (https, rtsps, http):
            camera.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://[fd00:ec2::254]/latest/meta-data/",  # AWS metadata over IPv6
        "http://[fd20:ce::254]/computeMetadata/v1/",  # Google Cloud metadata over IPv6
        "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud metadata
        "http://168.63.129.16/machine",  # Azure WireServer
        "rtsp://[fd12:3456:789a::5]/stream",  # IPv6 unique-local, camera_networks empty
        "rtsp://[::ffff:127.0.0.1]/stream",  # loopback, IPv4-mapped
        "rtsp://[::ffff:169.254.169.254]/stream",  # metadata, IPv4-mapped
        "rtsp://[64:ff9b::7f00:1]/stream",  # loopback through NAT64
        "rtsp://[2002:7f00:1::]/stream",  # loopback through 6to4
        "rtsp://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/stream",  # Teredo: its IPv4 cannot be checked
        "rtsp://0.0.0.1/stream",  # "this network"
    ],
)
def test_planning_refuses_metadata_private_ipv6_and_disguised_addresses(tmp_path, url):
    settings = Settings(home=tmp_path, live=LiveSettings(allow_loopback_cameras=False))
    with pytest.raises(BadInputError, match="refused"):
        camera_source(settings, tmp_path, url)


def test_metadata_is_refused_inside_the_camera_networks_and_unique_local_only_outside(tmp_path):
    wide = Settings(home=tmp_path, live=LiveSettings(camera_networks=["fd00::/8", "100.64.0.0/10", "10.20.0.0/16"]))
    for url in ("http://[fd00:ec2::254]/", "http://100.100.100.200/"):
        with pytest.raises(BadInputError, match="cloud metadata"):
            camera_source(wide, tmp_path, url)
    assert camera_source(wide, tmp_path, "rtsp://[fd12:3456::5]/s") == "rtsp://[fd12:3456::5]/s"
    assert camera_source(wide, tmp_path, "rtsp://[::ffff:10.20.1.5]/s")  # judged as 10.20.1.5: inside
    with pytest.raises(BadInputError, match="outside the camera networks"):
        camera_source(wide, tmp_path, "rtsp://[::ffff:192.168.1.5]/s")


def _feed(check, data: bytes, step: int) -> bytes:
    return b"".join(check.feed(data[i : i + step]) for i in range(0, len(data), step))


GOOD_RTSP = b"".join(
    [
        b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 13\r\n\r\nv=0\r\nRTSP/1.0",  # a body is not read as a reply
        b"$\x00\x00\x0c" + b"\x80" * 12,  # an interleaved frame
        b"\r\n$\x01\x00\x08" + b"$" * 8,  # another, after a stray CRLF
        b"GET_PARAMETER rtsp://camera/ RTSP/1.0\r\nCSeq: 9\r\n\r\n",  # a request from the camera
    ]
)


@pytest.mark.parametrize("step", [1, 7, 4096])
def test_the_rtsp_check_passes_a_camera_s_answers_unchanged_however_they_arrive(step):
    assert _feed(RtspReplyCheck(), GOOD_RTSP, step) == GOOD_RTSP


@pytest.mark.parametrize(
    "hostile",
    [
        b"RTSP/1.0 302 Moved\r\nCSeq: 1\r\nLocation: rtsp://127.0.0.1/\r\n\r\n",
        b"RTSP/1.0 301 Moved\r\nCSeq: 1\r\n\r\n",
        b"  RTSP/1.0\t307 x\r\n\r\n",  # FFmpeg skips leading blanks
        b"RTSP/1.0 200 OK\r\nlocation:rtsp://127.0.0.1/\r\n\r\n",  # a Location however it comes
        b"REDIRECT rtsp://camera/ RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\r\nRTSP/1.0 302 Moved\r\n\r\n",  # a line of two CRs ends a header block
        b"RTSP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nabcdeRTSP/1.0 302 Moved\r\n\r\n",  # after a body
        b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n$\x00\x00\x20 hidden\r\n\r\n",  # a frame inside a header block
        b"RTSP/1.0 200 OK\r\nContent-Length: 5x\r\n\r\n",  # a length FFmpeg and the gate might read apart
        b"RTSP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"RTSP/1.0 200 OK\r\n Content-Length : 40\r\n\r\n",
        b"$\x00\x00\x05RTSP/1.0 302 Moved\r\n\r\n",  # FFmpeg drops a frame shorter than 8 bytes unread
        b"RTSP/1.0 2OO OK\r\n\r\n",
    ],
)
def test_the_rtsp_check_refuses_redirects_and_anything_ffmpeg_could_read_otherwise(hostile):
    for step in (1, len(hostile)):
        check = RtspReplyCheck()
        with pytest.raises(_RefusalError):
            _feed(check, GOOD_RTSP + hostile, step)


def test_the_http_check_refuses_a_redirect_and_passes_a_stream():
    stream = b"HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\n\r\n" + bytes(range(256)) * 4
    assert _feed(HttpReplyCheck(), stream, 5) == stream
    for hostile in (b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1/\r\n\r\n", b"ICY 301 x\r\n", b"\x00\x01\n"):
        with pytest.raises(_RefusalError):
            _feed(HttpReplyCheck(), hostile, 3)


def test_the_log_filter_removes_credentials_from_message_arguments_and_tracebacks(tmp_path):
    path = tmp_path / "out.log"
    handler = protect(logging.FileHandler(path))
    logger = logging.getLogger("openfr.test.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("camera %s failed", "rtsp://admin:Hunter2pass@10.0.0.5:554/live")
        try:
            raise OSError("Server returned 401: 'http://admin:Hunter2pass@127.0.0.1:8/cam?pwd=Hunter2pass'")
        except OSError:
            logger.exception("reading the camera")
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert "Hunter2pass" not in text
    assert "rtsp://***@10.0.0.5:554/live" in text and "http://***@127.0.0.1:8/cam?pwd=***" in text
