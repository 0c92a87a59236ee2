"""A deployment as the doors show it (camera names only: a source can hold credentials), and `DeploymentViews`,
which reads one into it with the thresholds the model allows for its watchlist. Its own module so that the
deployment service and its parts (runs, authorisation, statistics) share it without importing one another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from openfr.engine.pipeline import FaceEngine
from openfr.live import lifecycle
from openfr.live.camera_secrets import where
from openfr.live.lifecycle import aware
from openfr.live.supervisor import CameraSupervisor
from openfr.settings import Settings
from openfr.store import Deployment
from openfr.thresholds import expected_false_alerts, group_rates, live_floor


@dataclass
class DeploymentView:
    """A deployment as the doors show it: camera names only (a source can hold credentials)."""

    id: int
    name: str
    state: str
    grounds: str
    categories: list[str]
    source_gallery: str
    location: str
    location_rationale: str
    starts_at: datetime
    ends_at: datetime
    cameras: list[dict]
    threshold: float
    consistent_shots: int
    public_notice: dict[str, str]
    created_by: str
    created_at: datetime | None
    authorised_by: str | None
    authorised_at: datetime | None
    authorisation_note: str | None
    closed_at: datetime | None
    close_reason: str | None
    snapshot_erased_at: datetime | None
    running: bool
    watchlist_size: int = 0  # images in the snapshot
    run_error: str | None = None
    subjects: int = 0  # people on the watchlist: in the snapshot once authorised, as it would be taken before
    two_person: bool = False
    expected_false_alerts: float | None = None  # per 100,000 strangers at this threshold and watchlist size
    group_fmr: list[dict] | None = None  # per demographic group, the false-match rate at this threshold
    authorised_rank: str | None = None  # the authorising officer's rank when they authorised it

    def summary(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "running": self.running,
            "location": self.location,
            "categories": self.categories,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "threshold": self.threshold,
            "subjects": self.subjects,
            "expected_false_alerts_per_100k": self.expected_false_alerts,
            "two_person": self.two_person,
            "authorised_by": self.authorised_by,
            "authorised_rank": self.authorised_rank,
            "cameras": [c["name"] for c in self.cameras],
        }

    def detail(self) -> dict:
        return {
            **self.summary(),
            "grounds": self.grounds,
            "location_rationale": self.location_rationale,
            "public_notice": self.public_notice,
            "created_by": self.created_by,
            "consistent_shots": self.consistent_shots,
            "watchlist_entries": self.watchlist_size,
            "group_fmr": self.group_fmr,
            "camera_sources": self.cameras,  # name and host, for the authorising officer
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "close_reason": self.close_reason,
        }


class DeploymentViews:
    """Reads a deployment as the doors show it, inside the caller's transaction, and says which thresholds the
    model allows for a watchlist. Not a use case (no principal): the deployment services call it."""

    def __init__(self, settings: Settings, engine: Callable[[], FaceEngine], cameras: CameraSupervisor):
        self.settings, self.engine, self.cameras = settings, engine, cameras  # cameras: which run in this process

    @property
    def floor(self) -> float:
        """The model's 1:1 threshold: nothing alerts below it, whatever the watchlist."""
        return self.engine().card.threshold

    def live_floor(self, subjects: int) -> float:
        """The lowest threshold for a watchlist of `subjects` people (the target false-alert rate met for
        the worst group); an installation's own match_threshold may only raise it."""
        engine = self.engine()
        return live_floor(engine.card, subjects, self.settings.live.target_fpir, at_least=engine.threshold)

    def subjects(self, session: Session, d: Deployment) -> int:
        """People on the watchlist: in the snapshot once authorised, as it would be taken before."""
        if d.watchlist_size is not None:
            return d.watchlist_size
        return lifecycle.subjects_in_watchlist(session, d.source_gallery, d.categories, self.engine().space)

    def view(self, session: Session, d: Deployment, *, detail: bool = True) -> DeploymentView:
        card = self.engine().card
        return DeploymentView(
            id=d.id,
            name=d.name,
            state=d.state,
            grounds=d.grounds,
            categories=list(d.categories),
            source_gallery=d.source_gallery,
            location=d.location,
            location_rationale=d.location_rationale,
            starts_at=aware(d.starts_at),
            ends_at=aware(d.ends_at),
            # Names and hosts for the authorising officer: never the URL's credentials or path.
            cameras=[{"name": c["name"], "where": where(c)} for c in d.cameras],
            threshold=d.threshold,
            consistent_shots=d.consistent_shots,
            public_notice=dict(d.public_notice),
            created_by=d.created_by,
            created_at=_aware(d.created_at),
            authorised_by=d.authorised_by,
            authorised_at=_aware(d.authorised_at),
            authorisation_note=d.authorisation_note,
            authorised_rank=d.authorised_rank,
            closed_at=_aware(d.closed_at),
            close_reason=d.close_reason,
            snapshot_erased_at=_aware(d.snapshot_erased_at),
            running=self.cameras.is_running(d.id) or lifecycle.running(d, self.settings.live.heartbeat_s),
            watchlist_size=len(d.entries) if detail else 0,
            run_error=self.cameras.last_error(d.id),
            subjects=(subjects := self.subjects(session, d)),
            two_person=d.two_person,
            expected_false_alerts=expected_false_alerts(card, d.threshold, subjects),
            group_fmr=group_rates(card, d.threshold) if detail else None,
        )


def _aware(moment: datetime | None) -> datetime | None:
    return aware(moment) if moment is not None else None
