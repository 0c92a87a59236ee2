"""Roles and what each may do: the whole permission matrix, in one place.

A route, command or service checks a permission, never a role, so that changing who may do what is an edit
to this table alone (and the route x role test follows it).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"  # operator-initiated searches from a phone
    OPERATOR = "operator"  # watches live alerts and adjudicates them
    AUTHORISING_OFFICER = "authorising-officer"  # approves deployments
    INVESTIGATOR = "investigator"  # retrospective searches, enrolment of case material
    AUDITOR = "auditor"  # reads the audit trail and statistics, changes nothing
    ADMINISTRATOR = "administrator"  # users, galleries, settings


class Permission(StrEnum):
    MODELS_READ = "models.read"
    # One permission per search mode, so that each mode has its own door and its own people: an officer at the
    # roadside identifies a person (OIFR) and never browses custody images for an investigation (RFR).
    SEARCH_OIFR = "search.oifr"
    SEARCH_RFR = "search.rfr"
    GALLERY_READ = "gallery.read"
    GALLERY_ENROL = "gallery.enrol"
    GALLERY_DELETE = "gallery.delete"
    GALLERY_REEMBED = "gallery.reembed"
    GALLERY_MANAGE = "gallery.manage"  # approve what a gallery may be used for (governance/uses.py)
    DEPLOYMENT_READ = "deployment.read"
    DEPLOYMENT_CREATE = "deployment.create"
    DEPLOYMENT_AUTHORISE = "deployment.authorise"
    DEPLOYMENT_RUN = "deployment.run"
    DEPLOYMENT_CLOSE = "deployment.close"
    ALERT_READ = "alert.read"
    ALERT_ADJUDICATE = "alert.adjudicate"
    STATS_READ = "stats.read"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    RETENTION_RUN = "retention.run"
    SUBJECT_ACCESS = (
        "subject-access.read"  # "was I on a watchlist?": a person's records across galleries and deployments
    )


P = Permission
MATRIX: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset({P.MODELS_READ, P.SEARCH_OIFR}),
    Role.OPERATOR: frozenset(
        {P.MODELS_READ, P.DEPLOYMENT_READ, P.DEPLOYMENT_RUN, P.DEPLOYMENT_CLOSE, P.ALERT_READ, P.ALERT_ADJUDICATE}
    ),
    # Authorising officers can also end a deployment early: withdrawing an authority is part of holding it.
    Role.AUTHORISING_OFFICER: frozenset(
        {
            P.MODELS_READ,
            P.DEPLOYMENT_READ,
            P.DEPLOYMENT_CREATE,
            P.DEPLOYMENT_AUTHORISE,
            P.DEPLOYMENT_CLOSE,
            P.ALERT_READ,
            P.STATS_READ,
        }
    ),
    Role.INVESTIGATOR: frozenset({P.MODELS_READ, P.SEARCH_RFR, P.GALLERY_READ, P.GALLERY_ENROL}),
    Role.AUDITOR: frozenset(
        {P.MODELS_READ, P.GALLERY_READ, P.DEPLOYMENT_READ, P.ALERT_READ, P.STATS_READ, P.AUDIT_READ, P.SUBJECT_ACCESS}
    ),
    Role.ADMINISTRATOR: frozenset(
        {
            P.MODELS_READ,
            P.GALLERY_READ,
            P.GALLERY_ENROL,
            P.GALLERY_DELETE,
            P.GALLERY_REEMBED,
            P.GALLERY_MANAGE,
            P.DEPLOYMENT_READ,
            P.DEPLOYMENT_CREATE,
            P.STATS_READ,
            P.AUDIT_READ,
            P.USERS_MANAGE,
            P.RETENTION_RUN,
        }
    ),
}
# Roles that approve what others do (deployments) or manage accounts. Creating, re-enabling or resetting
# such an account takes two administrators, so no one person can make an authoriser they control.
PRIVILEGED = frozenset({Role.ADMINISTRATOR, Role.AUTHORISING_OFFICER})
ALIASES = {"admin": Role.ADMINISTRATOR, "authoriser": Role.AUTHORISING_OFFICER}


def parse_role(text: str) -> Role:
    from openfr.errors import BadInputError

    key = text.strip().lower().replace("_", "-")
    if key in ALIASES:
        return ALIASES[key]
    try:
        return Role(key)
    except ValueError:
        raise BadInputError(f"unknown role '{text}' (one of: {', '.join(r.value for r in Role)}, admin)") from None


def allowed(role: str, permission: Permission) -> bool:
    return permission in MATRIX.get(Role(role), frozenset())
