"""Acts that take two steps in the console (revoking a token, deleting a subject): the first POST answers with
a page that says what will happen and asks for the reason; only the second, carrying `confirm=yes`, acts (no
script needed). One place for the order of the steps and for which refusals ask again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi.responses import Response

from openfr.errors import BadInputError, SafeguardMissingError

T = TypeVar("T")


def two_steps(
    confirm: str,
    *,
    ask: Callable[..., Response],
    act: Callable[[], T],
    done: Callable[[T], Response],
    refused: Callable[[BadInputError], Response],
) -> Response:
    """Without `confirm=yes`: `ask()`, the confirmation page (its own checks first: permission, the thing
    exists). With it: `act()`, then `done(result)`. A missing or bad reason (a plain BadInputError or
    SafeguardMissingError) asks again, the same step, as a 400; any other refusal answers `refused(exc)`."""
    try:
        if confirm != "yes":
            return ask()
        result = act()
    except BadInputError as exc:
        if type(exc) in (BadInputError, SafeguardMissingError):  # the reason: asked again, same step
            return ask(400, error=str(exc))
        return refused(exc)
    return done(result)
