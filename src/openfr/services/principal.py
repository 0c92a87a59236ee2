"""Who is acting: an authenticated account, or openfr itself (a window that ends, a scheduled purge).

Every use case takes a `Principal` and checks a permission on it before touching anything; the doors (CLI,
API, console) only turn a token into one. A principal is never built from a free-text name typed at a door.
A principal made from a scoped API token (governance/scopes.py) may do only what its scope and its role
both allow; one from an interactive sign-in has its whole role (`scope` None).
"""

from __future__ import annotations

from dataclasses import dataclass

from openfr.errors import PasswordChangeRequiredError, PermissionDeniedError
from openfr.governance.permissions import Permission, Role, allowed


@dataclass(frozen=True, slots=True)
class Principal:
    username: str  # what the audit trail records as the actor
    role: Role | None  # None for openfr itself
    user_id: int | None = None
    # Signed in with a password an administrator chose: nothing but changing it is allowed until then.
    must_change_password: bool = False
    # A scoped API token's permissions (within the role), or None: an interactive sign-in, the whole role.
    scope: frozenset[Permission] | None = None
    scope_name: str | None = None  # the token's scope, for messages and the audit trail

    @property
    def is_system(self) -> bool:
        return self.role is None

    @property
    def interactive(self) -> bool:
        """Signed in by a person just now (password, and code), not through a stored token."""
        return self.scope is None

    def may(self, permission: Permission) -> bool:
        """openfr itself may do what its own schedule needs (close expired windows, erase, purge)."""
        if self.must_change_password:
            return False
        if self.is_system:
            return True
        return allowed(self.role.value, permission) and (self.scope is None or permission in self.scope)  # type: ignore[union-attr]

    def require(self, permission: Permission) -> None:
        if self.must_change_password:
            raise PasswordChangeRequiredError
        if self.may(permission):
            return
        if self.role is not None and allowed(self.role.value, permission):
            raise PermissionDeniedError(
                f"this API token's scope ({self.scope_name}) does not allow {permission.value}: sign in, or use a "
                "token with the scope for it; nothing was changed"
            )
        raise PermissionDeniedError(
            f"your role ({self.role.value if self.role else '?'}) may not {permission.value}; nothing was changed"
        )

    def require_interactive(self, what: str) -> None:
        """Governance acts and token management need the person signed in, not a stored token."""
        if not self.interactive:
            raise PermissionDeniedError(f"{what} needs you signed in (not an API token); nothing was changed")


# Scheduled and automatic actions: a deployment's window ending, snapshot erasure. Never given to a door.
SYSTEM = Principal("system", None)
