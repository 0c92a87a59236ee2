"""Camera sources: a video file, an RTSP/HTTP URL or a webcam, decoded by PyAV (FFmpeg) in a background
thread, with reconnection, exponential backoff and a stall watchdog.

A file is read once, every frame, as fast as the consumer takes them (a benchmark or a retrospective scan).
A live source (URL, webcam) is real time: when the consumer falls behind, the oldest queued frame is dropped
rather than letting latency grow, a stream that ends or fails is reopened after a growing pause, and a
camera that keeps failing is reported unhealthy while the source keeps trying. Decoding errors inside a
stream (corrupt packets) are skipped and counted; they never stop the source.

A camera URL is opened only through the camera egress gate (`egress.py`), which checks where it leads at
each connection; a video file only with FFmpeg's file protocol and demuxers of direct streams. Health
details never carry a URL's credentials (FFmpeg's error text repeats the URL).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openfr.errors import BadInputError
from openfr.live.egress import FILE_OPTIONS, CameraRules, open_camera
from openfr.logs import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Frame:
    index: int  # position in this source's stream, counted across reconnections
    time: float  # seconds since the source started (stream time for files, wall time for live sources)
    image: np.ndarray  # H x W x 3 RGB uint8
    decoded_at: float  # time.monotonic() when the frame left the decoder: the start of time-to-alert


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # file | url | webcam
    location: str

    @classmethod
    def parse(cls, source: str) -> SourceSpec:
        if source.isdigit():
            return cls("webcam", source)
        if "://" in source:
            return cls("url", source)
        if not Path(source).is_file():
            raise BadInputError(
                f"video source not found: {source} (a file, an rtsp:// or http:// URL, or a webcam index)"
            )
        return cls("file", source)

    @property
    def live(self) -> bool:
        return self.kind != "file"

    def __str__(self) -> str:
        return redact(self.location)  # URLs may carry credentials (rtsp://user:pass@host): never show them


@dataclass(frozen=True)
class SourcePolicy:
    """Reconnection and watchdog timings (see LiveSettings for the trade-offs)."""

    open_timeout_s: float = 10.0
    stall_timeout_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    healthy_backoff_max_s: float = 5.0  # the cap once the camera has delivered frames: back within seconds
    unhealthy_after: int = 3  # consecutive failed connections before the camera is reported unhealthy
    max_attempts: int | None = None  # None: keep trying until stopped
    queue_size: int = 8
    realtime: bool = False  # pace a file at its frame rate, as a camera would deliver it (demo, time-to-alert)
    camera: CameraRules = field(default_factory=CameraRules)  # where a camera URL may lead (checked at each connection)


class VideoSource:
    """Iterate `frames()`; health changes are reported through `on_health(state, detail)`, where state is
    connecting | healthy | reconnecting | unhealthy | ended | failed."""

    def __init__(
        self,
        spec: SourceSpec,
        policy: SourcePolicy | None = None,
        on_health: Callable[[str, str], None] | None = None,
    ):
        self.spec = spec
        self.policy = policy or SourcePolicy()
        self._on_health = on_health or (lambda state, detail: None)
        self._queue: queue.Queue[Frame | None] = queue.Queue(self.policy.queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.health = "connecting"
        self.corrupt_packets = 0
        self.dropped_frames = 0
        self.connections = 0
        self._index, self._delivered = 0, False  # frames so far; whether this connection delivered any

    def frames(self, until: Callable[[], bool] | None = None) -> Iterator[Frame]:
        """Frames until the source ends or fails for good; `until()` is also checked while no frame comes
        (a camera that never connects must not hold up the end of a deployment)."""
        self._thread = threading.Thread(target=self._run, name=f"decode {self.spec}", daemon=True)
        self._thread.start()
        while True:
            try:
                frame = self._queue.get(timeout=0.5)
            except queue.Empty:
                if (self._stop.is_set() and not self._thread.is_alive()) or (until is not None and until()):
                    return
                continue
            if frame is None:
                return
            yield frame

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.policy.open_timeout_s + 2)

    # -- decoding thread -------------------------------------------------------------------------------

    def _set_health(self, state: str, detail: str = "") -> None:
        if state != self.health:
            self.health = state
            self._on_health(state, detail)

    def _run(self) -> None:
        failures, started, was_healthy = 0, time.monotonic(), False
        backoff = self.policy.backoff_initial_s
        try:
            while not self._stop.is_set():
                self._delivered = False
                try:
                    self._decode(started)
                except Exception as exc:  # any FFmpeg or network failure: reconnect, or give up
                    detail = redact(f"{type(exc).__name__}: {exc}")
                else:
                    detail = "stream ended"
                    if not self.spec.live:
                        self._set_health("ended", detail)
                        return
                if self._stop.is_set():
                    return
                # A connection that delivered frames before it failed resets the count and the pause.
                failures = 0 if self._delivered else failures + 1
                if self._delivered:
                    backoff, was_healthy = self.policy.backoff_initial_s, True
                if self.policy.max_attempts is not None and failures >= self.policy.max_attempts:
                    self._set_health("failed", detail)
                    return
                unhealthy = failures >= self.policy.unhealthy_after or not self.spec.live
                self._set_health("unhealthy" if unhealthy else "reconnecting", detail)
                if not self.spec.live:
                    return  # a file that cannot be decoded will not get better
                log.warning("camera %s: %s; reconnecting in %.1f s", self.spec, detail, backoff)
                self._stop.wait(backoff)
                cap = self.policy.healthy_backoff_max_s if was_healthy else self.policy.backoff_max_s
                backoff = min(backoff * 2, cap)
        finally:
            self._put(None)

    def _open(self):
        import av

        if self.spec.kind == "webcam":
            return av.open(f"/dev/video{self.spec.location}", format="v4l2", timeout=self.policy.open_timeout_s)
        # The stall watchdog: FFmpeg checks these timeouts (opening, each read) through its interrupt
        # callback, so a stream that stops sending raises within stall_timeout_s and is reopened.
        timeout = (self.policy.open_timeout_s, self.policy.stall_timeout_s)
        if self.spec.kind == "url":  # checked again at each connection: a name may resolve anew
            return open_camera(self.spec.location, self.policy.camera, timeout)
        return av.open(self.spec.location, options=FILE_OPTIONS, timeout=timeout)

    def _decode(self, started: float) -> None:
        """Decode one connection until it ends or fails; self._index and self._delivered follow progress."""
        import av

        with self._open() as container:
            self.connections += 1
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # FFmpeg's frame threads: decoding overlaps our processing
            base = None
            for packet in container.demux(stream):
                if self._stop.is_set():
                    break
                try:
                    decoded = packet.decode()
                except av.error.InvalidDataError:
                    self.corrupt_packets += 1
                    continue
                for frame in decoded:
                    if self.spec.live or frame.time is None:
                        t = time.monotonic() - started
                    else:
                        base = frame.time if base is None else base
                        t = frame.time - base
                        if self.policy.realtime:
                            self._stop.wait(max(0.0, started + t - time.monotonic()))
                    self._put(Frame(self._index, t, frame.to_ndarray(format="rgb24"), time.monotonic()))
                    self._index += 1
                    if not self._delivered:
                        self._delivered = True
                        self._set_health("healthy", f"connected ({stream.codec_context.name})")

    def _put(self, frame: Frame | None) -> None:
        while True:
            try:
                if self.spec.live and frame is not None:
                    self._queue.put_nowait(frame)
                else:
                    self._queue.put(frame, timeout=0.2)  # files: every frame, at the consumer's pace
                return
            except queue.Full:
                if self._stop.is_set():  # stopped: nobody reads on, and frames() ends on the stop itself
                    return
                if self.spec.live and frame is not None:
                    try:
                        self._queue.get_nowait()  # live: the newest frame matters most
                        self.dropped_frames += 1
                    except queue.Empty:
                        pass
