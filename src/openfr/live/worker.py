"""One camera worker: frames -> faces -> tracks -> best shots -> embeddings -> watchlist -> alerts.

Per frame the worker detects faces (with quality), follows them with the tracker, and embeds a face only
when its track has no embedding yet or the shot is clearly better than the track's best. Each embedding is
searched exactly against the watchlist; a match at or above the threshold, repeated over the required
number of shots, becomes one alert for that track and subject, handed to `on_alert` (which stores it before
anyone is told) with the face crop and the scene frame (the matched face outlined, every other face
pixelated). Faces that match nothing are dropped with the frame: only counters survive.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from openfr.engine.pipeline import FaceEngine
from openfr.live.decision import DecisionPolicy, TrackState
from openfr.live.scene import SCENE_MAX_SIDE, scene_frame
from openfr.live.sources import Frame, VideoSource
from openfr.live.tracking import FaceTracker
from openfr.live.watchlist import WatchEntry, Watchlist
from openfr.types import Face, Quality


@dataclass(frozen=True)
class AlertEvidence:
    camera: str
    track: int
    entry: WatchEntry
    score: float
    threshold: float
    quality: Quality
    frame: int
    stream_time: float
    first_usable_frame: int
    first_usable_at: float  # time.monotonic() of that frame's decoding: time-to-alert runs from here
    crop: np.ndarray  # the face with a margin, cut from the frame (RGB): what the operator compares
    replaces: str | None = None  # the subject of this track's earlier alert, which this one supersedes
    scene: np.ndarray | None = None  # the frame, scaled down, other faces pixelated (scene.py): alerts only


@dataclass
class CameraCounters:
    """Everything a worker keeps about the faces it saw: numbers."""

    frames: int = 0
    faces: int = 0
    tracks: int = 0
    embeddings: int = 0
    alerts: int = 0
    corrupt_packets: int = 0
    dropped_frames: int = 0
    connections: int = 0
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "fps": round(self.fps, 2), "seconds": round(self.seconds, 3)}


class CameraWorker:
    def __init__(
        self,
        name: str,
        source: VideoSource,
        engine: FaceEngine,
        watchlist: Watchlist,
        policy: DecisionPolicy,
        on_alert: Callable[[AlertEvidence], None],
        *,
        frame_rate: float = 25.0,
        lost_after_s: float = 1.0,
        crop_margin: float = 0.4,
        scene_max_side: int = SCENE_MAX_SIDE,
        parallel: int = 1,
        counters: CameraCounters | None = None,
    ):
        self.name, self.source, self.engine = name, source, engine
        self.watchlist, self.policy, self.on_alert = watchlist, policy, on_alert
        self.tracker = FaceTracker(frame_rate=frame_rate, lost_after_s=lost_after_s)
        self.lost_after_s, self.crop_margin, self.scene_max_side = lost_after_s, crop_margin, scene_max_side
        self.parallel = max(1, parallel)  # frames detected side by side, each on one thread
        self.tracks: dict[int, TrackState] = {}
        self.last_alert: dict[str, float] = {}  # subject -> stream time of this camera's last alert for them
        self.counters = counters if counters is not None else CameraCounters()  # shared across restarts
        self._stop = False

    def stop(self) -> None:
        self._stop = True
        self.source.stop()

    def run(self, until: Callable[[], bool] | None = None) -> CameraCounters:
        """Process frames until the source ends, `stop()` is called or `until()` turns true."""
        started = time.perf_counter()
        # Detection runs on `parallel` frames at once, each on one thread: one model call per thread uses the
        # cores better than one frame split over several threads. Tracking, matching and alerting take the
        # frames in order, as they were decoded.
        pool = (
            ThreadPoolExecutor(self.parallel, thread_name_prefix=f"detect {self.name}") if self.parallel > 1 else None
        )
        in_flight: deque[tuple[Frame, Future[list[Face]]]] = deque()
        try:
            for frame in self.source.frames(until):
                if pool is None:
                    self.process(frame)
                else:
                    in_flight.append((frame, pool.submit(self.engine.detect, frame.image)))
                    if len(in_flight) >= self.parallel:
                        done, faces = in_flight.popleft()
                        self.process(done, faces.result())
                if self._stop or (until is not None and until()):
                    break
            while in_flight:
                done, faces = in_flight.popleft()
                self.process(done, faces.result())
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            self.source.stop()
            self.counters.seconds += time.perf_counter() - started
            self.counters.corrupt_packets += self.source.corrupt_packets
            self.counters.dropped_frames += self.source.dropped_frames
            self.counters.connections += self.source.connections
            self.tracks.clear()  # track memory ends with the worker
            self.last_alert.clear()
        return self.counters

    def process(self, frame: Frame, faces: list[Face] | None = None) -> None:
        """One frame, in stream order; `faces` if its detection already ran (on another thread)."""
        self.counters.frames += 1
        faces = self.engine.detect(frame.image) if faces is None else faces
        self.counters.faces += len(faces)
        to_embed: list[tuple[TrackState, Face]] = []
        for face, track_id in zip(faces, self.tracker.update(faces), strict=True):
            if track_id < 0:
                continue  # not yet taken up by the tracker (first sighting)
            state = self._track(track_id, frame)
            if face.quality is not None and face.quality.usable and state.first_usable_frame is None:
                state.first_usable_frame, state.first_usable_at = frame.index, frame.decoded_at
            if face.quality is not None and state.wants_embedding(face.quality, self.policy):
                to_embed.append((state, face))
        if to_embed:
            self._match(frame, to_embed, faces)
        self._forget_lost_tracks(frame.time)

    def _track(self, track_id: int, frame: Frame) -> TrackState:
        state = self.tracks.get(track_id)
        if state is None:
            state = self.tracks[track_id] = TrackState(track_id, frame.index, frame.index, frame.time)
            self.counters.tracks += 1
        state.last_frame, state.last_seen = frame.index, frame.time
        return state

    def _match(self, frame: Frame, to_embed: list[tuple[TrackState, Face]], faces: list[Face]) -> None:
        """`faces`: every face detected in the frame, pixelated in an alert's scene frame but the matched one."""
        crops = [self.engine.embedder.crop(frame.image, face) for _, face in to_embed]
        vectors = self.engine.embedder.embed(crops)
        self.counters.embeddings += len(to_embed)
        for (state, face), vector in zip(to_embed, vectors, strict=True):
            ranked = self.watchlist.best_per_subject(vector, self.engine.space)
            for entry, score, replaces in state.matches_to_alert(ranked, self.policy):
                assert face.quality is not None and state.first_usable_frame is not None
                # A broken track (occlusion, a turn of the head) must not prompt the operator twice.
                last = self.last_alert.get(entry.subject)
                if last is not None and frame.time - last < self.policy.cooldown_s:
                    continue
                self.last_alert[entry.subject] = frame.time
                self.counters.alerts += 1
                self.on_alert(
                    AlertEvidence(
                        camera=self.name,
                        track=state.id,
                        entry=entry,
                        score=float(score),
                        threshold=self.policy.threshold,
                        quality=face.quality,
                        frame=frame.index,
                        stream_time=frame.time,
                        first_usable_frame=state.first_usable_frame,
                        first_usable_at=state.first_usable_at or frame.decoded_at,
                        crop=face_crop(frame.image, face, self.crop_margin),
                        replaces=replaces,
                        scene=scene_frame(frame.image, faces, face, self.scene_max_side),
                    )
                )
        # The vectors of shots that matched no one go out of scope here and are never kept.

    def _forget_lost_tracks(self, now: float) -> None:
        for track_id in [t for t, s in self.tracks.items() if now - s.last_seen > self.lost_after_s]:
            del self.tracks[track_id]


def face_crop(image: np.ndarray, face: Face, margin: float) -> np.ndarray:
    """The face box widened by `margin` on each side, clipped to the frame."""
    x1, y1, x2, y2 = face.box
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    h, w = image.shape[:2]
    left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
    right, bottom = min(w, int(x2 + dx)), min(h, int(y2 + dy))
    return np.ascontiguousarray(image[top:bottom, left:right])
