"""`openfr watch`: scan one video source against a folder watchlist, without a deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, PackOption, emit, err, guarded, services


@guarded
def watch(
    source: Annotated[str, typer.Argument(help="Video file, rtsp:// or http:// URL, or webcam index (0, 1, ...).")],
    watchlist: Annotated[Path, typer.Option("--watchlist", help="DIR/<subject name>/<images> or DIR/<name>.<ext>.")],
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Match threshold (default: the model pack's).")
    ] = None,
    consistent_shots: Annotated[
        int, typer.Option("--shots", min=1, help="Matching shots of one track before an alert.")
    ] = 1,
    json: JsonFlag = False,
    pack: PackOption = None,
) -> None:
    """One-off live scan: one line per alert, then a summary. An alert is a prompt to look, not an
    identification. Nothing is stored: faces that match no one are dropped in memory."""
    from openfr.live.decision import DecisionPolicy
    from openfr.live.setup import frame_rate, live_engine, open_source
    from openfr.live.watchlist import from_directory
    from openfr.live.worker import CameraWorker

    svc = services(pack)
    engine = live_engine(svc.settings, pack)
    targets = from_directory(watchlist, engine)
    limit = threshold if threshold is not None else engine.threshold
    policy = DecisionPolicy(
        threshold=limit,
        consistent_shots=consistent_shots,
        better_shot_gain=svc.settings.live.better_shot_gain,
        max_embeds_per_track=svc.settings.live.max_embeds_per_track,
        cooldown_s=svc.settings.live.alert_cooldown_s,
    )

    def on_health(state: str, detail: str) -> None:
        if state not in ("healthy", "ended"):
            err.print(f"camera {source_label}: {state} ({detail})", markup=False)

    # A one-off scan gives up on a source that never connects; a deployment keeps trying.
    src = open_source(source, svc.settings, on_health, max_attempts=3)
    source_label = str(src.spec)

    def on_alert(alert) -> None:
        line = {
            "type": "alert",
            "subject": alert.entry.subject,
            "score": round(alert.score, 4),
            "frame": alert.frame,
            "t": round(alert.stream_time, 3),
            "track": alert.track,
        }
        if json:
            emit(line)
        else:
            err.print(
                f"ALERT  {alert.entry.subject}  score {alert.score:.3f}  frame {alert.frame}  "
                f"t {alert.stream_time:.2f}s  track {alert.track}",
                markup=False,
            )

    worker = CameraWorker(
        source_label,
        src,
        engine,
        targets,
        policy,
        on_alert,
        frame_rate=frame_rate(source),
        lost_after_s=svc.settings.live.lost_after_s,
        crop_margin=svc.settings.live.crop_margin,
    )
    counters = worker.run()
    summary = {
        "type": "summary",
        "frames": counters.frames,
        "faces": counters.faces,
        "tracks": counters.tracks,
        "alerts": counters.alerts,
        "fps": round(counters.fps, 2),
    }
    if json:
        emit(summary)
    else:
        err.print(
            f"{counters.frames} frames, {counters.faces} faces, {counters.tracks} tracks, "
            f"{counters.alerts} alert(s), {counters.fps:.1f} frames/s",
            markup=False,
        )
    if src.health == "failed":
        from openfr.errors import BadInputError

        raise BadInputError(f"could not read from {source_label}")
