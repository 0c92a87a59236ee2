"""The audit trail's vocabulary: every action an event can record, with what it means.

Auditors filter by these (the console offers them as a list, the API and the command line refuse any other),
and a test keeps this list and the code in step: an `audit.record` call with an action missing here fails
it. A family is the part before the first dot ("deployment"): filtering by a family finds all its actions.
"""

from __future__ import annotations

from openfr.errors import BadInputError

ACTIONS: dict[str, str] = {
    # signing in and accounts
    "login": "Signed in (console, command line or API).",
    "login.failed": "A sign-in was refused (wrong password or code, locked or disabled account).",
    "logout": "Signed out.",
    "user.create": "An account was created (or, at installation, one of the first two administrators).",
    "user.approve": "A second administrator approved a privileged account's creation, re-enabling, reset or rank.",
    "user.enable": "An account was enabled (a privileged one: awaiting a second administrator).",
    "user.disable": "An account was disabled, with the reason; its sessions and tokens ended.",
    "user.password": "A password was changed by its owner, or reset by an administrator.",
    "user.password.failed": "A password change was refused: the current password was wrong.",
    "user.rank": "An account's police rank was recorded.",
    "user.totp": "A second factor was set up.",
    "token.issue": "An account's owner made an API token (its scope and lifetime).",
    "token.revoke": "An API token was revoked, by its owner or an administrator.",
    "refused": "A safeguard refused an act: who tried what, and why it was refused.",
    # galleries, enrolment and searches
    "gallery.create": "A gallery was created, with its purpose and uses.",
    "gallery.uses": "A gallery's approved uses changed, with the reason.",
    "gallery.view": "A page of a gallery's subjects was shown (the subjects whose images it showed).",
    "gallery.reembed": "A gallery's templates were rebuilt with another model pack.",
    "enrol": "Images were enrolled into a gallery (a batch).",
    "subject.delete": "A subject was erased with every image and template, with the reason.",
    "subject.image.view": "A subject's image was shown outside a recorded page.",
    "search": "A search: who, why, the crime reference, the gallery, the candidates listed.",
    "search.result": "An officer recorded what came of an operator-initiated search.",
    "search.candidate-image.view": "A candidate's image was shown outside the search's own result.",
    "search.purge": "Search records past their retention were erased.",
    "subject-access": "A subject access report was made (by reference, or by a confirmed photo match).",
    "subject-access.match": "A subject access photo was matched: how many candidates, nothing disclosed.",
    # live deployments and alerts
    "deployment.create": "A deployment was planned with its safeguards.",
    "deployment.authorise": "A deployment was authorised (rank, checklist, watchlist snapshot, threshold).",
    "deployment.watchlist.view": "The faces of a plan's watchlist were shown to an authorising officer.",
    "deployment.watchlist.image.view": "A face of a plan's watchlist was shown outside a recorded page.",
    "deployment.watchlist-remove": "A subject erased from a gallery was taken off running watchlists.",
    "deployment.live": "A deployment went live (its cameras started).",
    "deployment.start": "A deployment's cameras were started in the server.",
    "deployment.run": "A deployment's cameras were run in the foreground (command line).",
    "deployment.resume": "A deployment's cameras were resumed after a restart.",
    "deployment.stop": "A deployment's cameras were stopped.",
    "deployment.interrupted": "A deployment's cameras stopped with the process that ran them.",
    "deployment.close": "A deployment was closed (by a person, or by openfr at the end of its window).",
    "deployment.snapshot-erase": "A closed deployment's watchlist snapshot was erased.",
    "alert.view": "Alert cards were shown to an operator (the alerts whose images they showed).",
    "alert.image.view": "An alert's image was shown outside a recorded card.",
    "alert.confirm": "An operator confirmed an alert (two-person: the first or the second operator).",
    "alert.reject": "An operator rejected an alert as a false alert.",
    "alert.outcome": "The outcome of an alert was recorded.",
    "alert.purge": "Alerts and crops past their retention were erased.",
    # records and the trail
    "statistics.export": "Deployment statistics were exported as CSV.",
    "report.export": "A transparency report was produced (format; public or not).",
    "audit.export": "The audit trail was exported (format, filters, how many events).",
    "server.start": "A server started: a digest of its effective settings and the safety values in the clear.",
    "audit.sealing.start": "Sealing began on a trail with older, unsealed events: which events came before it.",
}
FAMILIES = sorted({action.split(".", 1)[0] for action in ACTIONS})


def check_filter(text: str | None) -> str | None:
    """An action filter: a known action, or a family (every action starting with it); None if not given."""
    wanted = (text or "").strip()
    if not wanted:
        return None
    if wanted in ACTIONS or wanted in FAMILIES:
        return wanted
    raise BadInputError(
        f"unknown action {wanted[:60]!r}: give an action or a family of them (e.g. {', '.join(FAMILIES[:6])}, ...);"
        " `openfr audit actions` lists them"
    )


def catalogue() -> list[dict]:
    """Every action with its meaning, for a page, `openfr audit actions` and GET /api/audit/actions."""
    return [{"action": action, "meaning": meaning} for action, meaning in ACTIONS.items()]
