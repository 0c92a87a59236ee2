"""Refusals are events too: when a safeguard stops an act, the audit trail records who tried what and why it
was refused, so a pattern of attempts (an officer probing for custody images, an administrator trying to
authorise their own plan, thresholds pushed below the floor) is visible to the auditors, not only the acts
that went through.

Every service class derives from `UseCases` and is declared with `@service`: a dataclass of its
dependencies, each named once as a field (the database first, from `UseCases`), the constructor made from
them. Its public methods that take the acting `principal` are wrapped once, here: a `SafeguardError`
(errors.py: permissions, separation of duties, missing safeguards, a threshold below its floor, purpose
limitation) raised anywhere inside the use case is appended to the trail in its own transaction (the act's
own transaction has been rolled back) and raised again unchanged. Only the outermost use case records it
(one search made through the OIFR use case is one refusal, not two), and errors that are not refusals (a
typo, a missing file, a gallery that does not exist) are not recorded.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, dataclass_transform

from openfr.errors import PasswordChangeRequiredError, PermissionDeniedError, SafeguardError
from openfr.governance import audit, events
from openfr.services.principal import Principal
from openfr.store import Database

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
REFUSED = events.Refused.action  # the audit action of every refusal
_inside = contextvars.ContextVar("openfr_use_case", default=False)


def _kind(exc: SafeguardError) -> str:
    if isinstance(exc, PasswordChangeRequiredError):
        return "password-change-required"
    return "permission" if isinstance(exc, PermissionDeniedError) else "safeguard"


@dataclass_transform(eq_default=False)
def service(cls: type[T]) -> type[T]:
    """A service class as the dataclass of its dependencies: the fields, in order, are its constructor's
    arguments (accessors such as `db` are called at first use). Compared and hashed by identity, as any
    object (a service is not a value), and its repr is object's (the fields hold settings and accessors)."""
    return dataclass(eq=False, repr=False)(cls)


@service
class UseCases:
    """Base of the service classes: records the refusals of their use cases (see the module docstring)."""

    # The database, opened at its first use (migrated, its audit seal checked: runtime.py): every use
    # case's transaction, and the refusals' events.
    db: Callable[[], Database]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        prefix = getattr(cls, "use_case_prefix", cls.__name__.removesuffix("Service").lower())
        for name, member in list(vars(cls).items()):
            if name.startswith("_") or not inspect.isfunction(member) or getattr(member, "_records_refusals", False):
                continue
            parameters = list(inspect.signature(member).parameters)
            if "principal" in parameters:
                setattr(cls, name, _recording(f"{prefix}.{name}", member, parameters.index("principal")))

    def record_refusal(self, principal: Principal, use_case: str, exc: SafeguardError) -> None:
        """Append the refusal; a trail that cannot be written must not hide the refusal itself."""
        if principal.is_system:
            return
        try:
            with self.db().transaction() as session:
                refused = events.Refused(kind=_kind(exc), token_scope=principal.scope_name)
                audit.record(session, principal.username, refused, f"use-case:{use_case}", str(exc)[:500])
        except Exception:
            log.exception("could not record a refusal of %s", use_case)


def _recording(use_case: str, method: Callable, position: int) -> Callable:
    @functools.wraps(method)
    def use_case_method(self, *args, **kwargs):
        if _inside.get():
            return method(self, *args, **kwargs)
        token = _inside.set(True)
        try:
            return method(self, *args, **kwargs)
        except SafeguardError as exc:
            principal = kwargs.get("principal", args[position - 1] if len(args) >= position else None)
            if isinstance(principal, Principal):
                self.record_refusal(principal, use_case, exc)
            raise
        finally:
            _inside.reset(token)

    use_case_method._records_refusals = True  # type: ignore[attr-defined]
    return use_case_method


class PartUseCase(Generic[P, R]):
    """A use case of one of a service's parts, reached through the service that holds the part (a class
    attribute: `start = PartUseCase("runs", DeploymentRuns.start)`). What an instance reads is the part's own
    bound method, so its signature, its permission check and its recorded refusal are the part's."""

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]):
        self.part, self.name, self.__doc__ = part, method.__name__, method.__doc__

    def __get__(self, service: object, owner: type | None = None) -> Callable[P, R]:
        if service is None:  # read on the class (documentation, introspection): the descriptor itself
            return self  # type: ignore[return-value]
        return getattr(getattr(service, self.part), self.name)
