"""What an audit event type is: a frozen dataclass that names its action, says what it means (its docstring)
and declares the details it records, each with what it holds.

`governance/events.py` declares the whole vocabulary with `@event("deployment.live")`. `audit.record` takes
only instances of declared events, so an action nobody declared cannot be recorded, and neither can a detail
its event does not declare (the dataclass refuses the keyword). A detail declared `optional` that is not given
is left out of the stored details, as the services always did, so "not recorded" stays distinct from a null.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar, dataclass_transform


class _NotGiven:
    """The value of an optional detail the caller did not give: it is not stored at all."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()
VOCABULARY = "openfr.governance.events"  # the one module that declares events
_DECLARED: dict[str, type[Event]] = {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every audit event type (see the module docstring)."""

    action: ClassVar[str] = ""

    def details(self) -> dict[str, Any]:
        """The event's details as stored: every field given, in declaration order."""
        given = ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))
        return {name: value for name, value in given if value is not NOT_GIVEN}

    @classmethod
    def meaning(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def detail_fields(cls) -> list[DetailField]:
        """The details this event records, for the reference (docs/audit-events.md)."""
        return [
            DetailField(f.name, _type_name(f.type), f.metadata["doc"], bool(f.metadata.get("optional")))
            for f in dataclasses.fields(cls)
        ]


@dataclasses.dataclass(frozen=True)
class DetailField:
    name: str
    type: str
    doc: str
    optional: bool


def detail(doc: str, *, optional: bool = False) -> Any:
    """A detail an event records, with what it holds; `optional`: left out of the stored details when not given."""
    if optional:
        return dataclasses.field(default=NOT_GIVEN, metadata={"doc": doc, "optional": True})
    return dataclasses.field(metadata={"doc": doc})


E = TypeVar("E", bound=Event)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(detail,))
def event(action: str) -> Callable[[type[E]], type[E]]:
    """Declare an audit event type: a frozen, keyword-only dataclass recording `action`. Its docstring is its
    meaning and every detail is declared with `detail(...)`: an event without either is refused here."""

    def declare(cls: type[E]) -> type[E]:
        if not (cls.__doc__ or "").strip():
            raise TypeError(f"{cls.__name__}: say what the event means in its docstring")
        if action in _DECLARED:
            raise TypeError(
                f"{cls.__name__}: the action {action!r} is declared already by {_DECLARED[action].__name__}"
            )
        declared = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
        if undocumented := [f.name for f in dataclasses.fields(declared) if "doc" not in f.metadata]:
            raise TypeError(f"{cls.__name__}: declare each detail with detail('what it holds'): {undocumented}")
        if cls.__module__ != VOCABULARY:  # one place to read the whole vocabulary
            raise TypeError(f"{cls.__name__}: declare audit events in governance/events.py, not in {cls.__module__}")
        declared.action = action
        _DECLARED[action] = declared
        return declared

    return declare


def declared() -> Mapping[str, type[Event]]:
    """Every declared event type by its action, in declaration order (a read-only view)."""
    return MappingProxyType(_DECLARED)


def is_declared(instance: object) -> bool:
    return isinstance(instance, Event) and _DECLARED.get(type(instance).action) is type(instance)


def _type_name(annotation: Any) -> str:
    # `from __future__ import annotations` leaves the annotation as its source text: the reference shows that.
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
