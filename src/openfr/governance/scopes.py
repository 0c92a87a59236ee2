"""What a long-lived API token may do: a scope, always within its owner's role.

An interactive sign-in (console session, command line, `POST /api/login`) acts with the whole of its
account's role. A token an owner makes for an integration or a phone (`openfr token create`) carries one
scope, and may do only what both the scope and the owner's role allow:

- `read`: look (model cards, galleries, deployments, alerts, statistics, the audit trail, as the role may);
- `search`: read, and search (operator-initiated or retrospective, as the role may);
- `enrol`: read, and enrol images into galleries;
- `live`: read, and run a deployment's cameras, stop or close it, adjudicate its alerts.

No scope carries a governance act: creating or authorising a deployment, managing accounts, approving a
gallery's uses, deleting or re-embedding subjects, purging, subject access. Those need the person, signed
in with their password (and second factor) now, not a secret stored in some integration for weeks.
"""

from __future__ import annotations

from enum import StrEnum

from openfr.errors import BadInputError
from openfr.governance.permissions import MATRIX, Permission, Role

P = Permission
READS = frozenset({P.MODELS_READ, P.GALLERY_READ, P.DEPLOYMENT_READ, P.ALERT_READ, P.STATS_READ, P.AUDIT_READ})


class Scope(StrEnum):
    READ = "read"
    SEARCH = "search"
    ENROL = "enrol"
    LIVE = "live"


SCOPES: dict[Scope, frozenset[Permission]] = {
    Scope.READ: READS,
    Scope.SEARCH: READS | {P.SEARCH_OIFR, P.SEARCH_RFR},
    Scope.ENROL: READS | {P.GALLERY_ENROL},
    Scope.LIVE: READS | {P.DEPLOYMENT_RUN, P.DEPLOYMENT_CLOSE, P.ALERT_ADJUDICATE},
}
DESCRIPTIONS: dict[Scope, str] = {
    Scope.READ: "look only: what your role may read",
    Scope.SEARCH: "read, and search (as your role may)",
    Scope.ENROL: "read, and enrol images into galleries",
    Scope.LIVE: "read, and operate live deployments: start, stop, close, adjudicate alerts",
}
MAX_TOKEN_DAYS = 90  # a token outlives no quarter: whatever holds it is reviewed at least that often


def parse_scope(text: str) -> Scope:
    try:
        return Scope((text or "").strip().lower())
    except ValueError:
        raise BadInputError(f"unknown scope '{text[:40]}' (one of: {', '.join(s.value for s in Scope)})") from None


def granted(role: Role, scope: Scope) -> frozenset[Permission]:
    """What a token of `scope` owned by an account of `role` may do: the scope within the role."""
    return SCOPES[scope] & MATRIX.get(role, frozenset())


def useful(role: Role, scope: Scope) -> bool:
    """Whether a token of `scope` would let an account of `role` do anything (beyond reading, for the
    scopes that add to `read`): an operator's `search` token would only read, which `read` says plainly."""
    permissions = granted(role, scope)
    return bool(permissions) and (scope is Scope.READ or permissions != granted(role, Scope.READ))


def catalogue(role: Role) -> list[dict]:
    """The scopes useful to an account of `role`, for a form: key, words, and what each grants this role."""
    return [
        {"key": s.value, "label": DESCRIPTIONS[s], "grants": sorted(p.value for p in granted(role, s))}
        for s in Scope
        if useful(role, s)
    ]
