"""`openfr watch`: a one-off scan of a video source against a folder watchlist, for evaluating openfr on
recordings and test cameras. It stores nothing and involves no deployment, so it is refused on operational
installations (`operational=true`), where live scanning happens only through authorised deployments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openfr.errors import PermissionDeniedError
from openfr.live.setup import camera_worker, decision_policy, live_engine
from openfr.live.watchlist import from_directory
from openfr.live.worker import AlertEvidence, CameraCounters
from openfr.settings import Settings
from openfr.thresholds import check_threshold, live_floor


@dataclass
class WatchRun:
    counters: CameraCounters
    source: str
    failed: bool  # the source could not be read
    skipped: list[tuple[str, str]] = field(default_factory=list)  # watchlist images without a usable face


def watch(
    settings: Settings,
    source: str,
    watchlist_dir: Path,
    on_alert: Callable[[AlertEvidence], object],
    *,
    threshold: float | None = None,
    consistent_shots: int = 1,
    pack_id: str | None = None,
    on_health: Callable[[str, str], None] | None = None,
    on_skipped: Callable[[str, str], None] | None = None,
) -> WatchRun:
    if settings.operational:
        raise PermissionDeniedError(
            "openfr watch is an evaluation tool: on an operational installation live scanning runs only in "
            "authorised deployments (openfr deployment ...)"
        )
    engine = live_engine(settings, pack_id)
    targets, skipped = from_directory(watchlist_dir, engine)
    # The same floor as a deployment's: the live threshold for this many people, never the 1:1 one.
    floor = live_floor(engine.card, len(targets.subjects), settings.live.target_fpir, at_least=engine.threshold)
    limit = check_threshold(threshold if threshold is not None else floor, floor)
    for image, reason in skipped:
        if on_skipped:
            on_skipped(image, reason)
    # A one-off scan gives up on a source that never connects; a deployment keeps trying.
    worker = camera_worker(
        source,
        source,
        settings,
        targets,
        decision_policy(settings, limit, consistent_shots),
        on_alert,
        engine=engine,
        on_health=on_health,
        max_attempts=3,
    )
    counters = worker.run()
    return WatchRun(counters, str(worker.source.spec), worker.source.health == "failed", skipped)
