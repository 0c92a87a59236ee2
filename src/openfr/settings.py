"""All of openfr's settings in one pydantic-settings tree.

Every field is titled and described (a test fails otherwise, and another fails if `docs/configuration.md`
is out of date), and unknown keys are refused (`extra="forbid"`, and `Settings.from_environment` for
`OPENFR_*` variables) so a misspelt variable is an error, not a silently ignored safeguard. Values come from
`OPENFR_*` environment variables; nested fields use a double underscore, e.g. `OPENFR_DETECTION__MIN_FACE_PX=32`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from openfr.outcomes import OUTCOMES

ENV_PREFIX = "OPENFR_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DetectionSettings(_Section):
    min_face_px: int = Field(
        24,
        ge=8,
        title="Minimum face size (px)",
        description=(
            "Smallest face, in source-image pixels across, that detection looks for; smaller ones are ignored. "
            "Lower finds faces further from the camera but makes large images be scanned at a finer scale "
            "(the detector needs about 16 px at its input: a large image is scanned at 16/min_face_px)."
        ),
    )
    min_face_fraction: float = Field(
        0.0125,
        ge=0.0,
        le=0.5,
        title="Minimum face size, as a share of the shorter side",
        description=(
            "In large images the smallest face looked for grows with the image: max(min_face_px, this x the "
            "shorter side). 1/80 leaves every image up to 1920 px on min_face_px and scans a 12 MP phone photo "
            "for faces from 38 px (about 15 px between the eyes, under the quality gate's 16), which takes "
            "about 0.2 s on one core instead of 0.4 s at 24 px. 0 scans every image for min_face_px faces."
        ),
    )
    max_face_fraction: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        title="Largest face, as a share of the shorter side",
        description=(
            "Faces up to this share of the image's shorter side are found (1 = a face filling the frame, as in "
            "a phone close-up). The detector sees faces up to about 320 px at its input, so covering larger "
            "ones may add a coarse scan (about 0.1 MP, cheap); a lower value skips it where faces cannot be "
            "that large."
        ),
    )
    max_input_side: int = Field(
        640,
        ge=64,
        title="Images scanned at full resolution, up to (px)",
        description=(
            "Images whose longest side is at most this are scanned at their own resolution (the most precise "
            "landmarks); larger ones are shrunk, but never so far that min_face_px falls below what the "
            "detector can see. Lower is faster on mid-sized images and loses landmark precision."
        ),
    )
    tile_side: int = Field(
        2048,
        ge=256,
        title="Largest detector input in one call (px)",
        description=(
            "A fine scan larger than this is cut into overlapping tiles of this size: bounded memory for images "
            "up to 50 MP and more. Smaller tiles use less memory and repeat more work in their overlaps."
        ),
    )
    input_size: int | None = Field(
        None,
        ge=64,
        title="Fixed square detector input (px)",
        description=(
            "If set, every image is letterboxed into this square (the classic 640x640 setting). Unset (the "
            "default) sizes the input to the image, rounded up to a multiple of 32: a 250x250 photo is "
            "scanned at 256x256, over six times less work than 640x640, with the same faces found."
        ),
    )
    score_threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        title="Detection score threshold",
        description=(
            "Minimum detector confidence for a face. Lower finds more hard faces (profile, blurred, small) and "
            "more false detections (patterns, printed faces); the quality gate then decides what is searchable."
        ),
    )
    nms_iou: float = Field(
        0.4,
        gt=0.0,
        le=1.0,
        title="Non-maximum suppression IoU",
        description="Overlap above which two detections are taken to be the same face and the weaker dropped.",
    )
    max_faces: int = Field(
        0,
        ge=0,
        title="Maximum faces per image",
        description="Keep only the largest N faces (0 = all). Bounds work on crowd images.",
    )


class QualitySettings(_Section):
    min_inter_eye_px: float = Field(
        16.0,
        ge=0.0,
        title="Minimum inter-eye distance (px)",
        description=(
            "Faces with eyes closer than this in the source image are detected but not usable for search: too "
            "few pixels to tell people apart, and accuracy falls unevenly across groups at low resolution. 16 px "
            "(a face about 36 px wide) admits CCTV-distance faces; custody-quality enrolment wants 60+."
        ),
    )
    min_blur: float = Field(
        40.0,
        ge=0.0,
        title="Minimum sharpness",
        description=(
            "Variance of the Laplacian on the 112x112 aligned crop. Motion-blurred or out-of-focus faces score "
            "low; raising it rejects more soft faces (fewer false matches, more misses)."
        ),
    )
    max_yaw: float = Field(
        45.0,
        ge=0.0,
        le=90.0,
        title="Maximum yaw (degrees)",
        description="Faces turned further than this left or right are not usable. A coarse landmark estimate.",
    )
    max_pitch: float = Field(
        40.0,
        ge=0.0,
        le=90.0,
        title="Maximum pitch (degrees)",
        description="Faces tilted further than this up or down are not usable. A coarse landmark estimate.",
    )
    min_det_score: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        title="Minimum detector score for use",
        description="Detections below this confidence are reported but not searched with.",
    )


class EngineSettings(_Section):
    batch_size: int = Field(
        32,
        ge=1,
        le=1024,
        title="Embedding batch size",
        description="Aligned faces embedded per model call. Larger amortises overhead; memory grows with it.",
    )
    threads: int = Field(
        0,
        ge=0,
        title="Threads per model session",
        description="onnxruntime intra-op threads per worker (0 = the machine's cores divided by workers).",
    )
    spinning: bool = Field(
        True,
        title="Spinning model threads",
        description=(
            "Let onnxruntime's threads spin briefly between calls instead of sleeping: lower latency for a "
            "searcher that calls the model back to back, but a spinning thread burns a core that decoding or "
            "another camera could use (live cameras always turn it off)."
        ),
    )
    workers: int = Field(
        0,
        ge=0,
        title="Worker processes for batch jobs",
        description=(
            "Processes that `openfr embed` and evaluation spread images over (0 = one per core). Processes beat "
            "threads here because decoding and pre-processing hold the GIL."
        ),
    )
    providers: list[str] | None = Field(
        None,
        title="onnxruntime execution providers",
        description=(
            'Ordered list, e.g. ["CUDAExecutionProvider", "CPUExecutionProvider"]. Unset: CUDA, then '
            "OpenVINO, then CPU, using whichever are installed."
        ),
    )
    working_pixels: int = Field(
        16_000_000,
        ge=1_000_000,
        title="Largest image searched at full size (pixels)",
        description=(
            "A search photo larger than this is shrunk by a whole factor as it is decoded (a JPEG is decoded "
            "straight at the smaller size), which bounds each request's memory: a 40 MP upload takes what a "
            "10 MP one does. 16 MP keeps every phone photo (12 MP) whole; a face must be over about 40 px in "
            "the shrunk image to be found anyway."
        ),
    )
    max_image_pixels: int = Field(
        40_000_000,
        ge=1,
        title="Largest image accepted (pixels)",
        description=(
            "Images with more pixels are refused before decoding: a guard against decompression bombs and "
            "memory exhaustion. 40 MP covers any camera or CCTV still."
        ),
    )


class GallerySettings(_Section):
    exact_max_size: int = Field(
        50_000,
        ge=0,
        title="Largest gallery searched exhaustively",
        description=(
            "Galleries with at most this many templates are searched exactly (every template scored, "
            "recall 1.0); larger ones through the large-gallery index (see large_index), whose recall is "
            "benchmarked. Exact search costs time in proportion to the gallery's size."
        ),
    )
    exact_dtype: Literal["float16", "int8"] = Field(
        "float16",
        title="Vector type for exact search",
        description=(
            "float16 keeps scores within 0.001 of float32 at half the memory; int8 halves it again and adds "
            "about 0.01 of score noise."
        ),
    )
    large_index: Literal["binary", "hnsw"] = Field(
        "binary",
        title="Index for large galleries",
        description=(
            "binary: sign-bit codes scored in full against the probe's weighted projections, a shortlist "
            "completed on whole codes, the best re-ranked on int8 vectors (576 bytes/face; latency grows "
            "linearly with the gallery, recall does not depend on how faces cluster). hnsw: usearch graph "
            "(sub-linear latency, but it misses low-similarity mates on face embeddings). Measured trade-offs: "
            "docs/benchmarks.md."
        ),
    )
    shortlist_share: float = Field(
        0.02,
        gt=0,
        le=1,
        title="Binary index shortlist",
        description=(
            "Share of a large gallery that survives the first pass of the binary index (which reads half of "
            "each code) and is re-scored on whole codes. Wider protects the lowest-similarity mates (about "
            "cosine 0.3) and costs latency (random reads of half a code per shortlisted face). Measured in "
            "docs/benchmarks.md: among 600 probes, the exact best match ranked at worst 11,795th of a "
            "million and 189,625th of ten million on half codes."
        ),
    )
    postgres_search: Literal["index", "pgvector"] = Field(
        "index",
        title="Search path on PostgreSQL",
        description=(
            "index: the same in-process index as on SQLite (exact or binary), built from the database's "
            "templates and saved under the data directory. pgvector: pgvector's HNSW inside the database "
            "(no index outside it, but measured at recall@1 0.94 on 100,000 faces, 0.84 for mates at "
            "0.3-0.6; see docs/benchmarks.md)."
        ),
    )
    hnsw_connectivity: int = Field(
        16,
        ge=4,
        le=64,
        title="HNSW graph degree",
        description="Neighbours per node. Higher improves recall and costs memory and build time.",
    )
    hnsw_expansion_search: int = Field(
        128,
        ge=8,
        title="HNSW search breadth",
        description="Candidates explored per query. Higher improves recall and costs latency.",
    )
    rerank: int = Field(
        400,
        ge=1,
        title="Candidates re-ranked",
        description=(
            "How many candidates of the large-gallery index are re-scored on the stored vectors before ranking "
            "(the binary index takes at least one face in 2,500, as ranks on codes spread with size; on "
            "PostgreSQL this is also pgvector's ef_search). More protects low-similarity mates (recall) and "
            "costs latency."
        ),
    )


class LiveSettings(_Section):
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


class RetentionSettings(_Section):
    """How long openfr keeps what it records, and how often it purges (inside `openfr serve`)."""

    alert_days: float = Field(
        31.0,
        ge=0.0,
        title="Alert retention (days)",
        description=(
            "Alerts (the row and its face crop) are deleted this long after they were raised, unless their "
            "outcome is one of keep_outcomes. Longer keeps evidence for complaints and review; the crop is a "
            "biometric image of someone who may not have been the subject."
        ),
    )
    keep_outcomes: list[str] = Field(
        ["engaged-arrest", "engaged-safeguarding"],
        title="Alert outcomes kept beyond the retention",
        description=(
            "Alerts with these outcomes are kept (their case's own retention applies, outside openfr's "
            "schedule): an arrest or a safeguarding action may need the alert as evidence."
        ),
    )

    @field_validator("keep_outcomes")
    @classmethod
    def _known_outcomes(cls, value: list[str]) -> list[str]:
        if unknown := sorted(set(value) - set(OUTCOMES)):
            raise ValueError(f"unknown outcomes {unknown}; known: {', '.join(OUTCOMES)}")
        return value

    search_days: float = Field(
        365.0,
        ge=0.0,
        title="Search record retention (days)",
        description=(
            "Records of retrospective and operator-initiated searches (who, why, the candidates returned; "
            "never the probe) are deleted this long after the search. They answer audits and subject access "
            "requests: shorter protects the people returned as candidates, longer keeps searches accountable."
        ),
    )
    interval_minutes: float = Field(
        60.0,
        gt=0.0,
        title="Purge interval inside openfr serve (minutes)",
        description=(
            "How often a running server closes expired deployments and erases what is past its retention. "
            "`openfr purge` does the same once, for installations without a server."
        ),
    )


class SearchSettings(_Section):
    """Retrospective and operator-initiated searches."""

    poor_probe_needs_reason: bool = Field(
        False,
        title="A poor probe needs a recorded reason",
        description=(
            "A probe whose face fails the quality gate (small, blurred, turned away) is still searched, with "
            "the verdict and its reasons beside the candidates, because a weak lead can still be the only "
            "one. Set this to require the searcher to record why such a probe was searched: more friction, "
            "and an account of each search made on a face the gate would have refused."
        ),
    )
    oifr_target_fpir: float = Field(
        1e-3,
        gt=0,
        lt=1,
        title="Operator-initiated search: false-candidate rate",
        description=(
            "Candidates of an officer's phone search must reach the threshold at which a search of someone "
            "who is NOT in the gallery lists anyone with at most this probability (worst demographic group of "
            "the pack's identification calibration), for the gallery's size: it rises with the gallery, as "
            "live thresholds rise with the watchlist. 1e-3 is one false candidate in 1,000 such searches. "
            "Lower shows officers fewer wrong faces at the roadside and misses more true ones (poor photos "
            "first); a 1:1 verification threshold here would list strangers from any large custody gallery."
        ),
    )
    rfr_target_fpir: float = Field(
        1e-2,
        gt=0,
        lt=1,
        title="Retrospective search: false-candidate rate",
        description=(
            "As oifr_target_fpir, for investigators' retrospective searches: the candidates listed by default "
            "(the whole ranking stays available with show-all, recorded). Higher than for OIFR because a "
            "trained reviewer examines each lead with time and context; lower hides more true leads."
        ),
    )
    subject_access_target_fpir: float = Field(
        1e-3,
        gt=0,
        lt=1,
        title="Subject access by photo: false-match rate",
        description=(
            "A subject access photo is compared with every gallery; a subject is put to the auditor only at "
            "the threshold where a stranger matches anyone with at most this probability, for the total "
            "number of people compared. The auditor then confirms each before anything is disclosed. Lower "
            "risks disclosing less about a third party and missing more of the requester's own records."
        ),
    )


class CliSettings(_Section):
    session_hours: float = Field(
        8.0,
        gt=0,
        le=24,
        title="Command-line sign-in length (h)",
        description=(
            "`openfr login` keeps a token (readable by its owner only) under $OPENFR_HOME for this long; "
            "commands that read or change the store run as that account until it expires or `openfr logout`. "
            "Longer saves signing in again; shorter limits what a left-open terminal can do."
        ),
    )


class WebSettings(_Section):
    session_hours: float = Field(
        12.0,
        gt=0,
        le=24 * 7,
        title="Console session length (h)",
        description=(
            "A console sign-in lasts this long (one shift by default), then the user signs in again. Longer "
            "is more convenient on a shared control-room screen and widens the window for a stolen session."
        ),
    )
    secure_cookies: bool = Field(
        True,
        title="Secure cookies",
        description=(
            "Mark the session and CSRF cookies Secure: browsers send them over HTTPS only (and to localhost). "
            "Serve the console behind a TLS proxy; turn this off only for a lab on a trusted network."
        ),
    )
    upload_max_mb: float = Field(
        20.0,
        gt=0,
        le=200,
        title="Largest image upload (MB)",
        description=(
            "Uploads for search or enrolment larger than this are refused (413). Uploads up to this size are "
            "held in memory only, never in a temporary file, so a larger limit costs memory per request."
        ),
    )
    heavy_requests: int = Field(
        0,
        ge=0,
        le=64,
        title="Searches, enrolments and sign-ins at once",
        description=(
            "How many CPU-heavy requests the server runs side by side (0 = the machine's cores minus one, at "
            "least one); each runs the model on one thread, below the cameras' scheduling priority. Fewer "
            "leaves more of the machine to the cameras running in the server and makes a crowd of clients wait "
            "longer."
        ),
    )
    heavy_queue: int = Field(
        80,
        ge=0,
        le=1000,
        title="Heavy requests waiting at most",
        description=(
            "Beyond the requests running, at most this many wait for a turn, the most urgent first (OIFR, then "
            "sign-ins, then searches, enrolments and subject access, which may fill three quarters of it); "
            "more are answered 503 with Retry-After at once. 80 takes a burst of 50 mixed requests on two "
            "cores without a refusal. Each waiting upload is held in memory (up to upload_max_mb each): "
            "a longer queue absorbs bigger bursts and costs memory, a shorter one refuses sooner."
        ),
    )
    heavy_wait_s: float = Field(
        120.0,
        gt=0,
        le=600,
        title="Longest wait for a turn (s)",
        description=(
            "A heavy request that waited this long without a turn is answered 503 with Retry-After: its client "
            "has likely given up (the officer's phone page waits 60 s). Longer lets a burst drain on a slow or "
            "busy machine; shorter spends less time on answers nobody reads."
        ),
    )
    video_folder: Path | None = Field(
        None,
        title="Folder of video files for deployments",
        description=(
            "Deployments created in the console may use video files from this folder only (besides rtsp:// "
            "and http(s):// cameras), so that no console user can make the server read any other file. "
            "Unset: $OPENFR_HOME/videos."
        ),
    )
    trusted_proxies: list[str] = Field(
        [],
        title="Reverse proxies trusted for the client's address",
        description=(
            "Addresses of the reverse proxies in front of `openfr serve` whose X-Forwarded-For header is believed. "
            "Empty: the header is ignored, so no local process can choose the address that sign-in limits count."
        ),
    )


class AuditSettings(_Section):
    anchor: str | None = Field(
        None,
        title="External copy of the audit checkpoints",
        description=(
            "Also append every sealed checkpoint of the audit trail to a sink outside openfr's reach. `syslog`: "
            "one line per checkpoint to the local syslog socket (facility authpriv), which a syslog daemon can "
            "forward off the machine; `openfr audit verify` cannot read it back, so compare it by hand. "
            "`file:/absolute/path`: a file on another mount (its folder must exist), appended and fsynced like "
            "the checkpoint file, which verify reads too. Either costs one more write per change; with neither, "
            "someone able to edit the database and the checkpoint file can cut the newest events unseen."
        ),
    )

    @field_validator("anchor")
    @classmethod
    def _known_anchor(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if value == "syslog":
            return value
        if value.startswith("file:") and Path(value.removeprefix("file:")).is_absolute():
            return value
        raise ValueError(
            "must be 'syslog' or 'file:' followed by an absolute path, e.g. file:/mnt/witness/openfr.jsonl"
        )


class Settings(BaseSettings):
    """openfr's configuration, read from `OPENFR_*` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    home: Path = Field(
        Path("openfr-data"),
        title="Data directory",
        description="Where openfr keeps its database, galleries and outputs (relative paths are from the cwd).",
    )
    database_url: str | None = Field(
        None,
        title="Database URL",
        description=(
            "SQLAlchemy URL of the identity store. Unset: SQLite (WAL mode) at $OPENFR_HOME/openfr.db, with an "
            "in-process vector index. postgresql+psycopg://... uses PostgreSQL with pgvector (HNSW on halfvec), "
            "which keeps metadata and vectors in one transaction for multi-server deployments."
        ),
    )
    model_pack: str = Field(
        "buffalo_s",
        title="Model pack",
        description=(
            "Which registered pack detects and embeds faces: buffalo_s (default, research licence), dlib "
            "(public domain) or onnx-dir (a folder with a manifest, see model_dir). `openfr models` lists them."
        ),
    )
    model_dir: Path | None = Field(
        None,
        title="Model folder for onnx-dir",
        description="Folder holding `openfr-pack.json` and its ONNX files; used when model_pack is onnx-dir.",
    )
    operational: bool = Field(
        False,
        title="Operational installation",
        description=(
            "Set on installations used for real policing. Research-licence packs (buffalo_s) are then refused "
            "unless allow_research_licence is also set, so licensing is a decision someone made, on record."
        ),
    )
    allow_research_licence: bool = Field(
        False,
        title="Allow research-licence packs when operational",
        description="Explicit override for operational installations; ignored otherwise.",
    )
    audit_key: SecretStr | None = Field(
        None,
        title="Audit seal key",
        description=(
            "Key (at least 16 characters) that seals every audit event and checkpoint, e.g. injected from a KMS "
            "or secrets manager. Unset: a random key in $OPENFR_HOME/keys/audit.key (mode 0600), made only for a "
            "store with no sealed events and no checkpoints. Once the trail is sealed, openfr refuses to start "
            "without the key that sealed it: back it up. Keep it away from the database's administrators: with "
            "the key, history can be rewritten."
        ),
    )
    secrets_key: SecretStr | None = Field(
        None,
        title="Stored-secrets key",
        description=(
            "Key (at least 16 characters) that encrypts second-factor (TOTP) secrets in the database, e.g. from "
            "a KMS. Unset: a random key in $OPENFR_HOME/keys/secrets.key (mode 0600), made on first use. A copy "
            "of the database without it holds no usable second factor; lose it and second factors must be set "
            "up again (passwords are unaffected)."
        ),
    )
    audit_checkpoint_file: Path | None = Field(
        None,
        title="Audit checkpoint file",
        description=(
            "Where the sealed head of the audit trail is appended after every change (default "
            "$OPENFR_HOME/keys/audit-checkpoints.jsonl). Put it on another disk or a write-once mount, or copy "
            "it off the machine: it is what shows that the newest events were deleted or the table emptied."
        ),
    )
    match_threshold: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        allow_inf_nan=False,
        title="Match threshold (cosine), raised above the calibrated one",
        description=(
            "Score at or above which `compare` reports a match, and the default threshold of new deployments. "
            "Unset uses the pack's threshold calibrated on LFW View 1 DevTrain (see `openfr models`), which is "
            "also the floor: a lower value is refused, here and from every door. Higher gives fewer false "
            "matches and misses more true ones; lower thresholds raise false matches, which published studies "
            "show fall unevenly on Black and female faces."
        ),
    )
    detection: DetectionSettings = Field(
        default_factory=DetectionSettings, title="Detection", description="Face detection settings."
    )
    quality: QualitySettings = Field(
        default_factory=QualitySettings,
        title="Quality gate",
        description="When a face is fit to search with.",
    )
    engine: EngineSettings = Field(
        default_factory=EngineSettings, title="Engine", description="Inference and image-loading settings."
    )
    gallery: GallerySettings = Field(
        default_factory=GallerySettings, title="Gallery search", description="How galleries are indexed and searched."
    )
    live: LiveSettings = Field(
        default_factory=LiveSettings, title="Live cameras", description="Camera workers of live deployments."
    )
    search: SearchSettings = Field(
        default_factory=SearchSettings, title="Searches", description="Retrospective and operator-initiated searches."
    )
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings, title="Retention", description="How long records are kept; purges."
    )
    cli: CliSettings = Field(
        default_factory=CliSettings, title="Command line", description="The `openfr` command's sign-in."
    )
    web: WebSettings = Field(
        default_factory=WebSettings, title="Console and API", description="The web console and the JSON API."
    )
    audit: AuditSettings = Field(
        default_factory=AuditSettings, title="Audit trail", description="Where the audit trail's seal is witnessed."
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home.expanduser().resolve() / 'openfr.db').as_posix()}"

    @classmethod
    def from_environment(cls) -> Settings:
        """Settings from the environment, refusing `OPENFR_*` variables that name no setting.

        pydantic-settings ignores unknown environment variables; for a safeguard such as
        OPENFR_OPERATIONAL a typo must not silently fall back to the default.
        """
        known = {env for env, _ in iter_fields(cls, leaves_only=False)}
        unknown = sorted(k for k in os.environ if k.upper().startswith(ENV_PREFIX) and k.upper() not in known)
        if unknown:
            from openfr.errors import ConfigurationError

            raise ConfigurationError(
                f"unknown setting(s) {', '.join(unknown)}: see docs/configuration.md or `openfr config docs`"
            )
        return cls()


def iter_fields(
    model: type[BaseModel], prefix: str = ENV_PREFIX, *, leaves_only: bool = True
) -> Iterator[tuple[str, FieldInfo]]:
    """(environment variable, field) for every setting, depth first; sections too unless `leaves_only`."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        env = f"{prefix}{name.upper()}"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not leaves_only:
                yield env, info
            yield from iter_fields(annotation, env + "__", leaves_only=leaves_only)
        else:
            yield env, info
