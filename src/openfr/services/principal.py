"""Who is acting: an authenticated account, or openfr itself (a window that ends, a scheduled purge).

Every use case takes a `Principal` and checks a permission on it before touching anything; the doors (CLI,
API, console) only turn a token into one. A principal is never built from a free-text name typed at a door.
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

    @property
    def is_system(self) -> bool:
        return self.role is None

    def may(self, permission: Permission) -> bool:
        """openfr itself may do what its own schedule needs (close expired windows, erase, purge)."""
        if self.must_change_password:
            return False
        return self.is_system or allowed(self.role.value, permission)  # type: ignore[union-attr]

    def require(self, permission: Permission) -> None:
        if self.must_change_password:
            raise PasswordChangeRequiredError
        if not self.may(permission):
            raise PermissionDeniedError(
                f"your role ({self.role.value if self.role else '?'}) may not {permission.value}; nothing was changed"
            )


# Scheduled and automatic actions: a deployment's window ending, snapshot erasure. Never given to a door.
SYSTEM = Principal("system", None)
