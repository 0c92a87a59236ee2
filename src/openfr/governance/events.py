"""The audit trail's vocabulary: every event openfr records, with what it means and the details it holds.

Each class is one action (`DeploymentLive` records "deployment.live"); the services record instances
(`audit.record(session, actor, events.DeploymentLive(), resource, reason)`), so an action or a detail declared nowhere
here cannot be recorded. docs/audit-events.md is generated from this module (`openfr audit docs`), auditors
filter by these actions (the console offers them as a list, the API and the command line refuse any other),
and a test checks that every event declared here is recorded somewhere. A family is the part of an action
before its first dot ("deployment"): filtering by a family finds all its actions. Never put faces, embeddings,
names of searched people or secrets in a detail: the trail is read by auditors and exported.
"""

from __future__ import annotations

from openfr.errors import BadInputError
from openfr.governance.event_base import Event, declared, detail, event

_SESSIONS_ENDED = "sessions and tokens of the account ended by the change"
_AWAITING = "true: a privileged account, disabled until a second administrator approves"


# -- signing in and accounts ---------------------------------------------------------------------------------


@event("login")
class Login(Event):
    """Signed in (console, command line or API)."""

    channel: str = detail("where: web, cli or api")


@event("login.failed")
class LoginFailed(Event):
    """A sign-in was refused (wrong password or code, locked or disabled account); the reason says which."""


@event("logout")
class Logout(Event):
    """Signed out."""

    channel: str = detail("where: web, cli or api")


@event("user.create")
class UserCreate(Event):
    """An account was created (or, at installation, one of the first two administrators)."""

    role: str = detail("the account's role")
    rank: str | None = detail("the police rank recorded with it (by an administrator)", optional=True)
    awaiting_approval: bool = detail(_AWAITING + " (by an administrator)", optional=True)


@event("user.approve")
class UserApprove(Event):
    """A second administrator approved a privileged account's creation, re-enabling, reset or rank."""

    requested_by: str | None = detail("the administrator who last asked for the change")
    requesters: list[str] = detail("every administrator who asked for it")
    role: str = detail("the account's role")


@event("user.enable")
class UserEnable(Event):
    """An account was enabled (a privileged one: awaiting a second administrator)."""

    awaiting_approval: bool = detail(_AWAITING, optional=True)
    sessions_ended: int = detail(_SESSIONS_ENDED + " (none when enabled)", optional=True)


@event("user.disable")
class UserDisable(Event):
    """An account was disabled, with the reason; its sessions and tokens ended."""

    sessions_ended: int = detail(_SESSIONS_ENDED)


@event("user.password")
class UserPassword(Event):
    """A password was changed by its owner, or reset by an administrator."""

    sessions_ended: int = detail(_SESSIONS_ENDED, optional=True)
    awaiting_approval: bool = detail(_AWAITING + " (a reset)", optional=True)


@event("user.password.failed")
class UserPasswordFailed(Event):
    """A password change was refused: the current password was wrong."""


@event("user.rank")
class UserRank(Event):
    """An account's police rank was recorded."""

    rank: str = detail("the rank recorded")
    previous: str | None = detail("the rank before")
    awaiting_approval: bool = detail(_AWAITING)


@event("user.totp")
class UserTotp(Event):
    """A second factor was set up."""


@event("token.issue")
class TokenIssue(Event):
    """An account's owner made an API token (its scope and lifetime)."""

    name: str = detail("what the token is for, in its owner's words")
    scope: str = detail("what it may do (governance/scopes.py)")
    days: int = detail("its lifetime")
    id: int = detail("the token's number (never the token)")


@event("token.revoke")
class TokenRevoke(Event):
    """An API token was revoked, by its owner or an administrator."""

    id: int = detail("the token's number")


@event("refused")
class Refused(Event):
    """A safeguard refused an act: who tried what (the resource names the use case), and why it was refused."""

    kind: str = detail("permission, safeguard or password-change-required")
    token_scope: str | None = detail("the scope of the API token used, if one was")


# -- galleries, enrolment and searches ------------------------------------------------------------------------


@event("gallery.create")
class GalleryCreate(Event):
    """A gallery was created, with its purpose and uses."""

    space: str = detail("the embedding space (model pack) of its templates")
    uses: list[str] = detail("the uses it is approved for")


@event("gallery.uses")
class GalleryUses(Event):
    """A gallery's approved uses changed, with the reason."""

    uses: list[str] = detail("the uses now approved")
    previous: list[str] = detail("the uses approved before")
    added: list[str] = detail("uses added")
    removed: list[str] = detail("uses removed")


@event("gallery.view")
class GalleryView(Event):
    """A page of a gallery's subjects was shown (the subjects whose images it showed)."""

    query: bool = detail("whether the list was filtered by a search")
    offset: int = detail("how many subjects came before the page")
    shown: int = detail("subjects on the page")
    total: int = detail("subjects matching (the console's paged list)", optional=True)
    images: list[str] = detail("the subjects whose thumbnails the page showed", optional=True)


@event("gallery.reembed")
class GalleryReembed(Event):
    """A gallery's templates were rebuilt with another model pack."""

    old_space: str = detail("the embedding space before")
    new_space: str = detail("the embedding space after")
    templates: int = detail("templates made")
    rejected: int = detail("images that gave no usable template")


@event("enrol")
class Enrol(Event):
    """Images were enrolled into a gallery (a batch)."""

    enrolled: int = detail("images enrolled")
    rejected: int = detail("images refused (no face, poor quality, unreadable)")


@event("subject.delete")
class SubjectDelete(Event):
    """A subject was erased with every image and template, with the reason."""

    subject: str = detail("the subject's reference")
    images: int = detail("images erased")
    templates: int = detail("templates erased")


@event("subject.image.view")
class SubjectImageView(Event):
    """A subject's image was shown outside a recorded page."""

    subject: str = detail("the subject's reference")


@event("search")
class Search(Event):
    """A search: who, why, the crime reference, the gallery, the candidates listed."""

    mode: str = detail("RFR (retrospective) or OIFR (operator-initiated)")
    crime_ref: str | None = detail("the crime or incident reference")
    search_id: int = detail("the search record's number")
    candidates: int = detail("candidates listed")
    reached: int = detail("candidates at or above the threshold")
    threshold: float = detail("the identification threshold applied")
    gallery_size: int = detail("people compared: what the threshold was set for")
    show_all: bool = detail("whether the whole ranking was asked for, below the threshold too")
    probe_usable: bool = detail("whether the photo passed the quality gate")
    poor_probe_reason: str | None = detail("why a photo below the quality gate was searched")
    top: int = detail("the most candidates asked for")
    grounds: str = detail("the approved grounds' key (OIFR)", optional=True)
    location: str | None = detail("where it happened (OIFR)", optional=True)


@event("search.result")
class SearchResult(Event):
    """An officer recorded what came of an operator-initiated search."""

    result: str = detail("the outcome's key")
    gallery: str = detail("the gallery searched")
    mode: str = detail("the search's mode (OIFR)")


@event("search.candidate-image.view")
class SearchCandidateImageView(Event):
    """A candidate's image was shown outside the search's own result."""

    rank: int = detail("the candidate's rank in the search")
    subject: str = detail("the candidate's reference")


@event("search.purge")
class SearchPurge(Event):
    """Search records past their retention were erased."""

    count: int = detail("search records erased")


@event("subject-access")
class SubjectAccess(Event):
    """A subject access report was made (by reference, or by a confirmed photo match)."""

    by: str = detail("reference or photo")
    subjects: int = detail("subjects the report covers")
    watchlists: int = detail("watchlist entries reported")
    alerts: int = detail("alerts reported")
    searches: int = detail("searches that returned the subjects")


@event("subject-access.match")
class SubjectAccessMatch(Event):
    """A subject access photo was matched: how many candidates, nothing disclosed."""

    candidates: int = detail("candidates at or above the threshold")
    compared: int = detail("templates compared")
    threshold: float = detail("the threshold applied")


# -- live deployments and alerts ---------------------------------------------------------------------------


@event("deployment.create")
class DeploymentCreate(Event):
    """A deployment was planned with its safeguards."""

    categories: list[str] = detail("the watchlist categories")
    location: str = detail("where it runs")
    threshold: float = detail("the alert threshold")
    subjects: int = detail("people the watchlist would hold")
    two_person: bool = detail("whether each alert needs two operators")
    starts_at: str = detail("the window's start (ISO 8601)")
    ends_at: str = detail("the window's end (ISO 8601)")
    cameras: list[str] = detail("the cameras' names (never their addresses)")
    public_notice: list[str] = detail("how the public is told")


@event("deployment.authorise")
class DeploymentAuthorise(Event):
    """A deployment was authorised (rank, checklist, watchlist snapshot, threshold)."""

    watchlist_entries: int = detail("templates frozen into the watchlist snapshot")
    subjects: int = detail("people on it")
    threshold: float = detail("the alert threshold")
    threshold_raised_from: float | None = detail("the planned threshold, when the live floor raised it")
    two_person: bool = detail("whether each alert needs two operators")
    rank: str | None = detail("the authorising officer's rank")
    checklist: dict[str, str] = detail("the checklist's statements, each confirmed")


@event("deployment.watchlist.view")
class DeploymentWatchlistView(Event):
    """The faces of a plan's watchlist were shown to an authorising officer."""

    offset: int = detail("how many people came before the page")
    shown: int = detail("people on the page")
    total: int = detail("people on the watchlist")
    subjects: list[str] = detail("the references of the people shown")


@event("deployment.watchlist.image.view")
class DeploymentWatchlistImageView(Event):
    """A face of a plan's watchlist was shown outside a recorded page."""

    image: int = detail("the image's number")
    subject: str = detail("the subject's reference")


@event("deployment.watchlist-remove")
class DeploymentWatchlistRemove(Event):
    """A subject erased from a gallery was taken off running watchlists."""

    subject: str = detail("the subject's reference")
    entries: int = detail("watchlist entries removed")


@event("deployment.live")
class DeploymentLive(Event):
    """A deployment went live (its cameras started)."""


@event("deployment.start")
class DeploymentStart(Event):
    """A deployment's cameras were started (in the server, or in the foreground by `openfr deployment run`)."""


@event("deployment.resume")
class DeploymentResume(Event):
    """A deployment's cameras were resumed after a restart."""


@event("deployment.stop")
class DeploymentStop(Event):
    """A deployment's cameras were stopped."""


@event("deployment.interrupted")
class DeploymentInterrupted(Event):
    """A deployment's cameras stopped with the process that ran them."""


@event("deployment.close")
class DeploymentClose(Event):
    """A deployment was closed (by a person, or by openfr at the end of its window)."""


@event("deployment.snapshot-erase")
class DeploymentSnapshotErase(Event):
    """A closed deployment's watchlist snapshot was erased."""


@event("alert.view")
class AlertView(Event):
    """Alert cards were shown to an operator (the alerts whose images they showed)."""

    alerts: list[int] = detail("the alerts shown")


@event("alert.image.view")
class AlertImageView(Event):
    """An alert's image was shown outside a recorded card."""

    image: str = detail("which image: crop, scene or watchlist")


@event("alert.confirm")
class AlertConfirm(Event):
    """An operator confirmed an alert (two-person: the first or the second operator)."""

    deployment_id: int = detail("the deployment's number")
    score: float = detail("the alert's similarity score")
    state: str = detail("the alert's state after it (awaiting-second: the first of two operators)")


@event("alert.reject")
class AlertReject(Event):
    """An operator rejected an alert as a false alert."""

    deployment_id: int = detail("the deployment's number")
    score: float = detail("the alert's similarity score")
    state: str = detail("the alert's state after it")


@event("alert.outcome")
class AlertOutcome(Event):
    """The outcome of an alert was recorded."""

    outcome: str = detail("what came of it")


@event("alert.purge")
class AlertPurge(Event):
    """Alerts and crops past their retention were erased."""

    count: int = detail("alerts erased")
    kept_outcomes: list[str] = detail("outcomes whose alerts are kept whatever their age")


# -- records and the trail ------------------------------------------------------------------------------------


@event("statistics.export")
class StatisticsExport(Event):
    """Deployment statistics were exported as CSV."""

    format: str = detail("csv")
    deployments: int = detail("deployments in the export")
    filter_from: str = detail("the period's first day", optional=True)
    filter_to: str = detail("the period's last day", optional=True)


@event("report.export")
class ReportExport(Event):
    """A transparency report was produced (format; public or not)."""

    format: str = detail("the report's format")
    public: bool = detail("whether it holds only the public columns")
    since: str | None = detail("the period's start")
    until: str | None = detail("the period's end")
    deployment: str | None = detail("the one deployment reported")
    rows: int = detail("deployments in the report")


@event("audit.export")
class AuditExport(Event):
    """The audit trail was exported (format, filters, how many events)."""

    format: str = detail("csv or jsonl")
    events: int = detail("events exported")
    filter_actor: str = detail("the actor filter", optional=True)
    filter_action: str = detail("the action filter", optional=True)
    filter_resource: str = detail("the resource filter", optional=True)
    filter_since: str = detail("from this time (UTC)", optional=True)
    filter_until: str = detail("until this time (UTC)", optional=True)


@event("server.start")
class ServerStart(Event):
    """A server started: a digest of its effective settings and the safety values in the clear."""

    settings_sha256: str = detail("SHA-256 of the effective settings without their secrets")
    operational: bool = detail("whether the installation is operational")
    model_pack: str = detail("the model pack")
    model_licence: str = detail("the pack's licence class")
    model_licence_allowed: bool = detail("whether that licence may run here")
    allow_research_licence: bool = detail("the research-licence override setting")
    research_licence_override_in_effect: bool = detail("whether the override is what lets the pack run")
    camera_networks_set: bool = detail("whether camera networks are set")


@event("audit.sealing.start")
class AuditSealingStart(Event):
    """Sealing began on a trail with older, unsealed events: which events came before it."""

    unsealed_before: int = detail("events before this position predate the seal")


# -- the vocabulary as a whole --------------------------------------------------------------------------------

EVENTS = declared()  # by action: every class above
FAMILIES = sorted({action.split(".", 1)[0] for action in EVENTS})


def check_filter(text: str | None) -> str | None:
    """An action filter: a known action, or a family (every action starting with it); None if not given."""
    wanted = (text or "").strip()
    if not wanted:
        return None
    if wanted in EVENTS or wanted in FAMILIES:
        return wanted
    raise BadInputError(
        f"unknown action {wanted[:60]!r}: give an action or a family of them (e.g. {', '.join(FAMILIES[:6])}, ...);"
        " `openfr audit actions` lists them"
    )


def catalogue() -> list[dict]:
    """Every action with its meaning and details, for a page, `openfr audit actions` and GET /api/audit/actions."""
    return [
        {"action": action, "meaning": kind.meaning(), "details": [f.name for f in kind.detail_fields()]}
        for action, kind in EVENTS.items()
    ]
