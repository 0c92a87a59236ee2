"""`openfr watch`: scan one video source against a folder watchlist, without a deployment (evaluation only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, PackOption, emit, err, guarded
from openfr.errors import BadInputError
from openfr.settings import Settings


@guarded
def watch(
    source: Annotated[str, typer.Argument(help="Video file, rtsp:// or http:// URL, or webcam index (0, 1, ...).")],
    watchlist: Annotated[Path, typer.Option("--watchlist", help="DIR/<subject name>/<images> or DIR/<name>.<ext>.")],
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Match threshold (default and minimum: the model pack's).")
    ] = None,
    consistent_shots: Annotated[
        int, typer.Option("--shots", min=1, max=10, help="Matching shots of one track before an alert.")
    ] = 1,
    json: JsonFlag = False,
    pack: PackOption = None,
) -> None:
    """One-off live scan for evaluation: one line per alert, then a summary. An alert is a prompt to look,
    not an identification. Nothing is stored; refused on operational installations."""
    from openfr.services.watch import watch as scan

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

    def on_health(state: str, detail: str) -> None:
        if state not in ("healthy", "ended"):
            err.print(f"camera {source}: {state} ({detail})", markup=False)

    def on_skipped(image: str, reason: str) -> None:
        if json:
            emit({"type": "skipped", "image": image, "reason": reason})
        else:
            err.print(f"watchlist image skipped: {image} ({reason})", markup=False)

    run = scan(
        Settings.from_environment(),
        source,
        watchlist,
        on_alert,
        threshold=threshold,
        consistent_shots=consistent_shots,
        pack_id=pack,
        on_health=on_health,
        on_skipped=on_skipped,
    )
    counters = run.counters
    summary = {
        "type": "summary",
        "frames": counters.frames,
        "faces": counters.faces,
        "tracks": counters.tracks,
        "alerts": counters.alerts,
        "fps": round(counters.fps, 2),
        "watchlist_skipped": len(run.skipped),
    }
    if json:
        emit(summary)
    else:
        err.print(
            f"{counters.frames} frames, {counters.faces} faces, {counters.tracks} tracks, "
            f"{counters.alerts} alert(s), {counters.fps:.1f} frames/s",
            markup=False,
        )
    if run.failed:
        raise BadInputError(f"could not read from {run.source}")
