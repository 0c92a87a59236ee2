"""Deployments with known figures for the statistics tests: when each went live, how many people its camera
saw, and its alerts (state, outcome, time to alert), written as the cameras and operators would leave them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from live_data import a_plan
from openfr.live import lifecycle
from openfr.store import Alert

# (state, outcome, time to alert in ms)
AlertSpec = tuple[str, str | None, float]


def add_deployment(
    app,
    name: str,
    gallery: str,
    *,
    live_at: datetime | None,
    people: int = 0,
    alerts: list[AlertSpec] = (),  # type: ignore[assignment]
    watchlist_size: int | None = 100,
    threshold: float = 0.45,
) -> None:
    """A deployment that went live at `live_at` (None: a draft), its camera having seen `people` people."""
    start = live_at or datetime.now(UTC)
    window = {"starts_at": start, "ends_at": start + timedelta(hours=2)}
    plan = a_plan({"gate": "rtsp://cam.example/1"}, name=name, grounds="statistics test", source_gallery=gallery,
                  location="square", threshold=threshold, **window)  # fmt: skip
    with app.runtime.db.transaction() as session:
        d = lifecycle.create(session, plan, created_by="test", floor=0.0, box=app.runtime.secret_box)
        if live_at is not None:
            d.state, d.live_at, d.closed_at = "closed", live_at, live_at + timedelta(hours=2)
            d.watchlist_size = watchlist_size
            d.counters = {"gate": {"frames": people * 40, "faces": people * 30, "tracks": people}}
        for i, (state, outcome, tta) in enumerate(alerts):
            fields = dict(
                deployment_id=d.id, subject_ref=f"S-{i}", category="wanted-serious-offence", camera="gate",
                track=i, score=0.6, threshold=threshold, quality={}, frame=i, stream_time=0.0,
                first_usable_frame=i, time_to_alert_ms=tta, state=state, outcome=outcome,
                created_at=(live_at or start) + timedelta(minutes=i),
            )  # fmt: skip
            session.add(Alert(**fields))


def day(text: str) -> datetime:
    """An ISO time as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def the_first_days_of_may(app, gallery: str) -> None:
    """Five deployments around 1 to 3 May 2026 (the period the tests choose): one the evening before, one at
    the first moment of the period, one at its last second, one at the first moment after, and a draft."""
    arrest, not_engaged = ("confirmed", "engaged-arrest"), ("rejected", "not-engaged")
    add_deployment(app, "eve-before", gallery, live_at=day("2026-04-30T23:30:00"), people=1000,
                   alerts=[(*arrest, 100.0)])  # fmt: skip
    add_deployment(app, "first-morning", gallery, live_at=day("2026-05-01T00:00:00"), people=2000,
                   alerts=[(*arrest, 200.0), (*not_engaged, 400.0), ("pending", None, 300.0)])  # fmt: skip
    wrong_person = ("confirmed", "engaged-not-the-person")  # a false alert found on the street
    undecided = [("awaiting-second", None, 60.0), ("superseded", None, 70.0)]
    add_deployment(app, "last-second", gallery, live_at=day("2026-05-03T23:59:59"), people=500,
                   alerts=[(*wrong_person, 50.0), *undecided])  # fmt: skip
    add_deployment(app, "next-day", gallery, live_at=day("2026-05-04T00:00:00"), people=300,
                   alerts=[(*not_engaged, 900.0)])  # fmt: skip
    add_deployment(app, "still-a-draft", gallery, live_at=None)
