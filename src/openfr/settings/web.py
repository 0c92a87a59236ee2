"""Settings of the doors people use: the command line's sign-in, and the web console and JSON API (sessions,
cookies, uploads, admission of CPU-heavy requests, video folder, trusted proxies).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from openfr.settings.section import Section


class CliSettings(Section):
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


class WebSettings(Section):
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
    pending_poll_s: float = Field(
        10.0,
        ge=1,
        le=300,
        title="Pending-alert counter refresh (s)",
        description=(
            "Every console page of those who decide on alerts asks this often how many await a decision (the "
            "header's counter and the title). The live console itself is told at once over its event stream. "
            "Shorter: a page left open elsewhere notices sooner; each open page costs one small request a period."
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
