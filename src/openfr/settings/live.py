"""Settings of live facial recognition: the camera workers (detection on frames, tracking, re-embedding),
alerting, camera connections and their network limits, and the authorisation of a deployment (window,
authorising rank, watchlist threshold).

One section, `live`, so every variable stays `OPENFR_LIVE__<FIELD>`; the order of its fields is the order of
the reference in docs/configuration.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from openfr.settings.section import Section


class LiveSettings(Section):
    """Camera workers of live deployments and `openfr watch`."""

    detect_max_side: int = Field(
        512,
        ge=160,
        title="Frames scanned at full resolution, up to (px)",
        description=(
            "Frames whose longest side is at most this are scanned at their own resolution; larger frames are "
            "shrunk, but never below what min_face_px needs (a 1080p frame with 40 px faces: 768x432). Lower "
            "is faster on small frames; faces under about 16 px at the detector's input are not found, and "
            "those are below the quality gate anyway."
        ),
    )
    max_face_fraction: float = Field(
        0.7,
        gt=0.0,
        le=1.0,
        title="Largest face in live video, as a share of the frame's height",
        description=(
            "Faces up to this share of the frame's shorter side are looked for. A camera rarely sees a face "
            "filling most of the frame; up to 0.74 of a 1080p frame needs no second scan at 40 px faces, while "
            "1.0 adds a coarse scan on every frame."
        ),
    )
    min_face_px: int = Field(
        40,
        ge=8,
        title="Smallest face looked for in live video (px)",
        description=(
            "Shorter side of the smallest face detection must find in the full frame. Lower keeps the "
            "detector input larger (slower) to see smaller, usually unusable, faces."
        ),
    )
    threads: int = Field(
        2,
        ge=1,
        le=16,
        title="Frames detected side by side per camera",
        description=(
            "A camera detects this many frames at once, each on one thread (one model call per thread uses the "
            "cores better than one frame split over several threads); tracking and alerts still take the "
            "frames in order. More keeps up with larger frames on more cores and delays each frame's result by "
            "up to that many frames' detection time."
        ),
    )
    better_shot_gain: float = Field(
        0.15,
        ge=0.0,
        title="Better shot margin",
        description=(
            "A tracked face is embedded again only when its shot score (confidence, size, frontalness, "
            "sharpness) beats the track's best by this share. Lower embeds more often (more CPU, a better "
            "chance of a clear shot); higher embeds less."
        ),
    )
    max_embeds_per_track: int = Field(
        8,
        ge=1,
        title="Embeddings per track",
        description="Upper bound on embeddings for one passer-by: bounds CPU when someone lingers in view.",
    )
    alert_cooldown_s: float = Field(
        60.0,
        ge=0.0,
        title="Alert cool-down per subject and camera (s)",
        description=(
            "After an alert, the same subject raises no new alert on the same camera for this long, even on a "
            "new track (tracks break when a face turns away or is hidden). Longer spares operators repeated "
            "prompts for one person; shorter re-alerts sooner if the first alert was missed."
        ),
    )
    lost_after_s: float = Field(
        1.0,
        gt=0,
        title="Track memory (s)",
        description=(
            "How long an undetected face keeps its track (and its alert-once memory). Longer avoids a second "
            "alert when someone turns away briefly; too long lets a newcomer inherit the track."
        ),
    )
    stall_timeout_s: float = Field(
        5.0,
        gt=0,
        title="Stall watchdog (s)",
        description="A live stream that delivers nothing for this long is closed and reopened.",
    )
    open_timeout_s: float = Field(
        10.0,
        gt=0,
        title="Connection timeout (s)",
        description="How long opening a camera may take before the attempt counts as failed.",
    )
    backoff_max_s: float = Field(
        30.0,
        gt=0,
        title="Longest reconnection pause (s)",
        description=(
            "Pauses between reconnection attempts of a camera that has not delivered frames yet double from "
            "0.5 s up to this (healthy_backoff_max_s applies once it has); also the longest pause before a "
            "failed camera worker is restarted."
        ),
    )
    unhealthy_after: int = Field(
        3,
        ge=1,
        title="Failures before a camera is unhealthy",
        description="Consecutive failed connections after which the camera is reported unhealthy (it keeps trying).",
    )
    crop_margin: float = Field(
        0.4,
        ge=0.0,
        le=2.0,
        title="Alert crop margin",
        description="Share of the face box added on each side of the face crop stored with an alert.",
    )
    heartbeat_s: float = Field(
        2.0,
        gt=0,
        le=60,
        title="Run lease renewal (s)",
        description=(
            "How often a running deployment renews its run lease and checks whether it was stopped or closed "
            "from another door or process; its cameras stop within about this long. A lease not renewed for "
            "five intervals (a crashed server) is free for another Start. Shorter reacts sooner and writes "
            "to the database more often."
        ),
    )
    on_restart: Literal["resume", "interrupt"] = Field(
        "resume",
        title="Deployments found running at start-up",
        description=(
            "When `openfr serve` starts and finds deployments that were running (a crash, a power cut, an "
            "upgrade): resume their cameras at once, or record them as interrupted for an operator to restart. "
            "Resuming closes the gap in coverage; interrupting puts a person back in the loop after a failure. "
            "Both are audited."
        ),
    )
    healthy_backoff_max_s: float = Field(
        5.0,
        gt=0,
        title="Longest reconnection pause for a camera that was working (s)",
        description=(
            "A camera that delivered frames and then dropped is retried with pauses doubling from 0.5 s up to "
            "this, rather than up to the longer backoff_max_s kept for cameras that never connect: a camera "
            "back after a short outage resumes within seconds. Lower reconnects sooner and knocks more often."
        ),
    )
    camera_networks: list[str] = Field(
        [],
        title="Networks cameras may be on (CIDR)",
        description=(
            'When set (e.g. ["10.20.0.0/16"]), a camera URL must resolve inside one of these networks: the '
            "server opens camera URLs itself, so without this a planner can point it at any host it can reach "
            "(the force's own servers included). An operational installation refuses to plan or start a "
            "deployment until it is set. IPv6 unique-local addresses are refused unless listed here; loopback, "
            "link-local, multicast and cloud metadata addresses are refused whatever this says. Wider networks "
            "save listing each CCTV subnet and let a planner reach more of the hosts in them."
        ),
    )

    @field_validator("camera_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the entry
        return value

    allow_loopback_cameras: bool = Field(
        False,
        title="Allow cameras on this machine (loopback)",
        description=(
            "For development and tests with a local test stream only: lets a camera URL point at 127.0.0.1 or "
            "::1, which otherwise reaches the server's own services."
        ),
    )
    max_window_hours: float = Field(
        24.0,
        gt=0,
        le=24 * 7,
        title="Longest deployment window (h)",
        description=(
            "A deployment is authorised for one time window, starting now or later, of at most this long; a "
            "longer operation is planned, and authorised, again. Shorter keeps each authority tied to the "
            "circumstances that justified it; longer saves re-authorising multi-day events."
        ),
    )
    authoriser_min_rank: str = Field(
        "superintendent",
        title="Lowest rank that may authorise a deployment",
        description=(
            "An authorising officer's recorded rank (set on their account, under dual control) must be at least "
            "this (governance/ranks.py lists the ranks in order). The College of Policing's guidance asks for a "
            "superintendent or above; lowering it to inspector allows urgent authority at the cost of "
            "seniority."
        ),
    )

    @field_validator("authoriser_min_rank")
    @classmethod
    def _known_rank(cls, value: str) -> str:
        from openfr.errors import BadInputError
        from openfr.governance.ranks import parse_rank

        try:
            return parse_rank(value)
        except BadInputError as exc:
            raise ValueError(str(exc)) from None

    snapshot_retention_hours: float = Field(
        24.0,
        ge=0.0,
        title="Watchlist snapshot retention (h)",
        description=(
            "A closed deployment's watchlist snapshot (images and templates) is erased this long after closing. "
            "Alerts keep their own face crop and the subject reference."
        ),
    )
    target_fpir: float = Field(
        1e-4,
        gt=0.0,
        lt=0.1,
        title="Target false alerts per stranger scanned",
        description=(
            "The false-positive identification rate the live threshold is set for: the share of passers-by who "
            "are on no watchlist yet raise an alert, for the worst demographic group the pack was calibrated "
            "on. The threshold for a deployment follows from this and its watchlist size (false alerts grow "
            "with the watchlist), and is its floor. 1e-4 is 1 in 10,000 faces (the NPL-tested operational "
            "setting was about 1 in 6,000). Lower means fewer false alerts and more people on the watchlist "
            "walking past unnoticed."
        ),
    )
    replace_margin: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        title="Score margin for a track's alert to be replaced",
        description=(
            "A track raises at most one alert, for its best-scoring subject. A later shot matching someone else "
            "replaces that alert (recorded, the first marked superseded) only when it scores this much higher. "
            "Lower lets a clearly better shot correct a poor first one sooner; higher keeps the operator from "
            "seeing one passer-by flip between look-alikes."
        ),
    )
