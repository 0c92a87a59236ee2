"""A deployment as the doors show it (camera names only: a source can hold credentials). Its own module so
that the deployment service's parts (runs, authorisation, statistics) can name it without importing the
service that mixes them in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
