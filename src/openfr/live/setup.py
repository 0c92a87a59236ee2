"""Assembling a camera worker from settings: the one place that does it, for deployments, `openfr watch` and
the live benchmark alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openfr.engine.pipeline import FaceEngine, load_engine
from openfr.errors import BadInputError, ConfigurationError
from openfr.live.camera_network import check_camera_url
from openfr.live.decision import DecisionPolicy
from openfr.live.egress import FILE_OPTIONS, CameraRules
from openfr.live.sources import SourcePolicy, SourceSpec, VideoSource
from openfr.live.watchlist import Watchlist
from openfr.live.worker import AlertEvidence, CameraCounters, CameraWorker
from openfr.settings import Settings


def decision_policy(settings: Settings, threshold: float, consistent_shots: int = 1) -> DecisionPolicy:
    live = settings.live
    return DecisionPolicy(
        threshold=threshold,
        consistent_shots=consistent_shots,
        better_shot_gain=live.better_shot_gain,
        max_embeds_per_track=live.max_embeds_per_track,
        cooldown_s=live.alert_cooldown_s,
        replace_margin=live.replace_margin,
    )


def camera_worker(
    name: str,
    source: str,
    settings: Settings,
    watchlist: Watchlist,
    policy: DecisionPolicy,
    on_alert: Callable[[AlertEvidence], object],
    *,
    engine: FaceEngine | None = None,
    on_health: Callable[[str, str], None] | None = None,
    realtime: bool = False,
    max_attempts: int | None = None,
    counters: CameraCounters | None = None,
) -> CameraWorker:
    """A camera worker reading `source`. Each camera gets its own live engine unless one is given
    (onnxruntime sessions are not shared between cameras running side by side)."""
    return CameraWorker(
        name,
        open_source(source, settings, on_health, max_attempts=max_attempts, realtime=realtime),
        engine or live_engine(settings),
        watchlist,
        policy,
        on_alert,
        frame_rate=frame_rate(source),
        lost_after_s=settings.live.lost_after_s,
        crop_margin=settings.live.crop_margin,
        parallel=settings.live.threads,
        counters=counters,
    )


def live_engine(settings: Settings, pack_id: str | None = None) -> FaceEngine:
    """The engine with the live detector settings: a smaller detector input and its own thread count."""
    live = settings.live
    tuned = settings.model_copy(
        update={
            "detection": settings.detection.model_copy(
                update={
                    "max_input_side": live.detect_max_side,
                    "min_face_px": live.min_face_px,
                    "max_face_fraction": live.max_face_fraction,
                }
            ),
            # One thread per model call (a camera detects `live.threads` frames side by side instead), and no
            # spinning: idle threads would burn the core the decoding thread needs.
            "engine": settings.engine.model_copy(update={"threads": 1, "spinning": False}),
        }
    )
    return load_engine(tuned, pack_id)


def open_source(
    source: str, settings: Settings, on_health=None, *, max_attempts: int | None = None, realtime: bool = False
) -> VideoSource:
    live = settings.live
    policy = SourcePolicy(
        open_timeout_s=live.open_timeout_s,
        stall_timeout_s=live.stall_timeout_s,
        backoff_max_s=live.backoff_max_s,
        healthy_backoff_max_s=live.healthy_backoff_max_s,
        unhealthy_after=live.unhealthy_after,
        max_attempts=max_attempts,
        realtime=realtime,
        camera=CameraRules(tuple(live.camera_networks), live.allow_loopback_cameras, live.open_timeout_s),
    )
    return VideoSource(SourceSpec.parse(source), policy, on_health)


def frame_rate(source: str) -> float:
    """The stream's nominal frame rate (for the tracker's timing), 25 if it cannot be read quickly."""
    spec = SourceSpec.parse(source)
    if spec.kind != "file":
        return 25.0
    import av

    try:
        with av.open(spec.location, options=FILE_OPTIONS) as container:
            rate = container.streams.video[0].average_rate
            return float(rate) if rate else 25.0
    except (av.error.FFmpegError, IndexError):
        return 25.0


def require_camera_networks(settings: Settings) -> None:
    """An operational installation names the networks its cameras are on before any deployment is planned
    or started: without them every private address (the force's own servers included) could be a camera."""
    if settings.operational and not settings.live.camera_networks:
        raise ConfigurationError(
            "this installation is operational: set live.camera_networks to the networks the cameras are on "
            "(e.g. OPENFR_LIVE__CAMERA_NETWORKS='[\"10.20.0.0/16\"]') before planning or starting a deployment"
        )


def video_folder(settings: Settings, home: Path) -> Path:
    return (settings.web.video_folder or home / "videos").expanduser().resolve()


def camera_source(settings: Settings, home: Path, source: str) -> str:
    """A deployment's camera source, from any door: an rtsp/http(s) URL, a webcam index, or a video file in
    the video folder (by name or full path). Any other path is refused, so nobody planning a deployment can
    make openfr open arbitrary files; a file name is resolved to its full path."""
    source = source.strip()
    if not source.isprintable():  # NUL and other control characters: no URL, webcam or file name has them
        raise BadInputError("a camera source cannot contain control characters")
    if source.isdigit():
        return source
    if source.split("://", 1)[0].lower() in ("rtsp", "rtsps", "http", "https") and "://" in source:
        check_camera_url(source, settings.live.camera_networks, settings.live.allow_loopback_cameras)
        return source
    folder = video_folder(settings, home)
    candidate = (folder / source).resolve()
    if candidate.parent != folder or not candidate.is_file():
        names = ", ".join(sorted(p.name for p in folder.glob("*") if p.is_file())[:20]) if folder.is_dir() else ""
        raise BadInputError(  # the folder's name only: a refusal never reveals the server's paths
            f"camera source '{source}': give an rtsp:// or http(s):// URL, a webcam number, or a video file in "
            f"the video folder ({names or 'none there yet'})"
        )
    return str(candidate)


def video_files(settings: Settings, home: Path) -> list[str]:
    folder = video_folder(settings, home)
    suffixes = {".mp4", ".mkv", ".avi", ".mov", ".ts", ".webm"}
    return sorted(p.name for p in folder.glob("*") if p.suffix.lower() in suffixes) if folder.is_dir() else []
