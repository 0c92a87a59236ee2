"""Turning settings into the parts of a camera worker (used by `openfr watch` and by deployments)."""

from __future__ import annotations

from openfr.engine.pipeline import FaceEngine, load_engine
from openfr.live.sources import SourcePolicy, SourceSpec, VideoSource
from openfr.settings import Settings


def live_engine(settings: Settings, pack_id: str | None = None) -> FaceEngine:
    """The engine with the live detector settings: a smaller detector input and its own thread count."""
    live = settings.live
    tuned = settings.model_copy(
        update={
            "detection": settings.detection.model_copy(
                update={"max_input_side": live.detect_max_side, "min_face_px": live.min_face_px}
            ),
            "engine": settings.engine.model_copy(update={"threads": live.threads}),
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
        unhealthy_after=live.unhealthy_after,
        max_attempts=max_attempts,
        realtime=realtime,
    )
    return VideoSource(SourceSpec.parse(source), policy, on_health)


def frame_rate(source: str) -> float:
    """The stream's nominal frame rate (for the tracker's timing), 25 if it cannot be read quickly."""
    spec = SourceSpec.parse(source)
    if spec.kind != "file":
        return 25.0
    import av

    try:
        with av.open(spec.location) as container:
            rate = container.streams.video[0].average_rate
            return float(rate) if rate else 25.0
    except (av.error.FFmpegError, IndexError):
        return 25.0
