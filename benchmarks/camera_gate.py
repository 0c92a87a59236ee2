"""What the camera egress gate costs: the same camera stream read directly by FFmpeg and through the gate.

    .venv/bin/python benchmarks/camera_gate.py [--megabytes 64] [--json]

An HTTP camera on loopback serves an MPEG-TS stream (one clip repeated to the size asked) as fast as it can
be read; FFmpeg demuxes it without decoding (so the figure is the transport's, not the decoder's), first
directly, then through `live/egress.py` (over HTTP, and over RTSP: MPEG-TS in RTP, interleaved). Reported:
MB/s and the process's CPU seconds per MB, from which the CPU a 4 Mbit/s camera costs for the relay.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from camera_servers import HttpCamera, RtspCamera
from openfr.live.egress import CameraRules, open_camera


def stream(megabytes: int) -> bytes:
    """A 1280x720 clip of noise-ish frames (so the bitrate is a camera's), repeated to `megabytes`."""
    path = Path(tempfile.mkdtemp()) / "clip.ts"
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format="mpegts") as container:
        video = container.add_stream("libx264", rate=25, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"
        base = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
        for i in range(50):
            container.mux(video.encode(av.VideoFrame.from_ndarray(np.roll(base, i * 8, axis=1), format="rgb24")))
        container.mux(video.encode())
    clip = path.read_bytes()
    return clip * max(1, megabytes * 2**20 // len(clip))


def read(url: str, gate: bool) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (this process: FFmpeg and the gate alike) and bytes demuxed."""
    wall, cpu, size = time.perf_counter(), time.process_time(), 0
    opened = (
        open_camera(url, CameraRules(allow_loopback=True), (10, 10))
        if gate
        else av.open(url, options={"rtsp_transport": "tcp"}, timeout=(10, 10))
    )
    try:
        with opened as container:
            for packet in container.demux(video=0):
                size += packet.size
    except av.error.FFmpegError:
        pass  # the stream ends without Content-Length: FFmpeg reports the end as an I/O error
    return time.perf_counter() - wall, time.process_time() - cpu, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = stream(args.megabytes)
    http, rtsp = HttpCamera("127.0.0.1", data), RtspCamera("127.0.0.1", data)
    rows = []
    for label, url, gate in (
        ("http direct", f"{http.base}/camera.ts", False),
        ("http through the gate", f"{http.base}/camera.ts", True),
        ("rtsp direct", rtsp.url, False),
        ("rtsp through the gate", rtsp.url, True),
    ):
        wall, cpu, size = read(url, gate)
        mb = size / 2**20
        rows.append(
            {
                "path": label,
                "MB": round(mb, 1),
                "MB_per_s": round(mb / wall, 1),
                "cpu_s_per_MB": round(cpu / mb, 4),
                "cpu_share_of_a_core_at_4_Mbit_s": round(cpu / mb * 0.5 * 100, 2),  # 4 Mbit/s = 0.5 MB/s, in %
            }
        )
    result = {"python": platform.python_version(), "machine": platform.machine(), "rows": rows}
    if args.json:
        print(json.dumps(result))
        return
    for row in rows:
        print(
            f"{row['path']:24} {row['MB']:7.1f} MB  {row['MB_per_s']:7.1f} MB/s  {row['cpu_s_per_MB']:.4f} CPU s/MB"
            f"  {row['cpu_share_of_a_core_at_4_Mbit_s']:5.2f}% of a core at 4 Mbit/s"
        )


if __name__ == "__main__":
    main()
