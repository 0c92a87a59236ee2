"""What every command shares: the application, the signed-in account, the error boundary, JSON output."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from openfr.cli.identity import current_principal
from openfr.errors import BadInputError, OpenFRError
from openfr.logs import configure as configure_logging
from openfr.runtime import Runtime
from openfr.services import Application, Principal, boot
from openfr.settings import Settings

if TYPE_CHECKING:
    from openfr.gallery.search import Candidate

# Human messages go to stderr so that stdout stays clean JSON for other tools (the command-line contract:
# docs/architecture.md, 'Layers'; tests/test_cli.py).
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
PackOption = Annotated[
    str | None, typer.Option("--pack", help="Model pack to use (default: OPENFR_MODEL_PACK or buffalo_s).")
]
YesFlag = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation (scripts: there is no terminal).")]

P = ParamSpec("P")
R = TypeVar("R")


def confirmed(question: str, yes: bool) -> None:
    """A destructive command asks first, on the terminal; without one (a script) it needs --yes."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInputError(f"{question} Nothing was changed: add --yes to confirm (there is no terminal to ask on)")
    if not typer.confirm(question, default=False, err=True):
        raise BadInputError("not confirmed: nothing was changed")


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Turn openfr's errors into a one-line reason on stderr and the contract's exit code, no traceback. An
    unexpected failure (a full disk, a lost database) is one line too, exit 1, with the details in the log."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OpenFRError as exc:
            fail(str(exc), exc.exit_code)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])
            fail(f"invalid settings ({problems})", 2)
        except BrokenPipeError:  # e.g. `openfr embed ... | head`
            sys.stderr.close()
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            fail(unexpected(exc), 1)
        raise AssertionError("unreachable")

    return wrapper


def unexpected(exc: BaseException) -> str:
    """The one line for an error nobody planned for; the traceback goes to the log (never to the terminal:
    it could carry values), if the log can be written."""
    where = None
    try:
        where = configure_logging(Settings.from_environment().home.expanduser().resolve())
    except Exception:  # the settings themselves may be what is broken
        where = None
    if where is not None:
        logging.getLogger("openfr.cli").error("unexpected failure", exc_info=exc)
    detail = str(exc).splitlines()[0][:300] if str(exc) else ""
    place = f"details in {where}" if where is not None else "the log could not be written either"
    return f"unexpected failure: {type(exc).__name__}{': ' + detail if detail else ''} ({place})"


def fail(message: str, code: int = 2) -> None:
    err.print(f"openfr: error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def runtime(pack: str | None = None) -> Runtime:
    """The engine and data folder alone, for commands that touch no store (detect, embed, compare, bench)."""
    return Runtime(Settings.from_environment(), pack)


def application(pack: str | None = None) -> Application:
    return boot(pack_id=pack)


def signed_in(pack: str | None = None) -> tuple[Application, Principal]:
    """The application and the account this command runs as (from `openfr login`); exit 2 without one."""
    app = application(pack)
    return app, current_principal(app)


def emit(obj: Any) -> None:
    """One JSON document per line, flushed at once so consumers can stream."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str) + "\n")
    sys.stdout.flush()


def read_photo(path: Path) -> bytes:
    """A photo given on the command line, read into memory; a missing or unreadable file is bad input (one line
    naming the file and why), never a traceback."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: {exc.strerror or exc}") from None


def candidates_table(title: str, candidates: Iterable[Candidate]) -> Table:
    """A search's candidates as people read them (`openfr search`, `openfr oifr search`): rank, reference,
    name, score."""
    table = Table("rank", "subject", "name", "score", title=title)
    for c in candidates:
        table.add_row(str(c.rank), c.subject, c.name or "", f"{c.score:.3f}")
    return table


def print_or_check(text: str, published: Path, check: bool) -> None:
    """A generated reference (`openfr config docs`, `openfr audit docs`): its text on stdout, or with --check
    only the exit status: 0 when the published copy (relative to the current folder) is current, else 1."""
    if check:
        raise typer.Exit(0 if published.exists() and published.read_text() == text else 1)
    sys.stdout.write(text)
