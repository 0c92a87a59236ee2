"""`openfr login` / `logout` / `whoami` / `passwd`: the command line signs in like any other client.

The token is kept in $OPENFR_HOME/cli/session.json, readable by its owner only, for `cli.session_hours`;
only its digest is in the database, and `logout` revokes it there. Every command that reads or changes the
store runs as that account, under the same permission matrix as the API and the console.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, application, emit, err, guarded
from openfr.cli.identity import current_principal, session_file, write_private
from openfr.governance.credentials import SecondFactorRequiredError, TokenKind


@guarded
def login(
    username: Annotated[str, typer.Argument(help="Your account.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    totp: Annotated[str | None, typer.Option("--totp", help="The code from your authenticator app, if set.")] = None,
    json_: JsonFlag = False,
) -> None:
    """Sign in; later commands run as this account until `openfr logout` or the sign-in expires."""
    app = application()
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True)
    try:
        done = app.accounts.sign_in(username, password, totp, TokenKind.CLI)
    except SecondFactorRequiredError:
        if not sys.stdin.isatty():
            raise
        code = typer.prompt("Code from your authenticator app")
        done = app.accounts.sign_in(username, password, code, TokenKind.CLI)
    previous = session_file(app)
    with contextlib.suppress(FileNotFoundError, KeyError, ValueError):
        app.accounts.sign_out(json.loads(previous.read_text())["token"], TokenKind.CLI)  # one sign-in at a time
    role = done.principal.role.value if done.principal.role else ""
    write_private(previous, json.dumps({"token": done.token, "username": done.principal.username, "role": role}))
    if json_:
        emit({"username": done.principal.username, "role": role, "hours": done.hours})
    else:
        err.print(f"signed in as {done.principal.username} ({role}) for {done.hours:g} h", markup=False)
    if done.principal.must_change_password:
        err.print("your password was set by an administrator: change it now with `openfr passwd`", markup=False)


@guarded
def passwd(
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the current, then the new password, one per line.")
    ] = False,
) -> None:
    """Change your own password (the current one is required); your other sessions and tokens end."""
    app = application()
    me = current_principal(app)
    if password_stdin:
        current, new = sys.stdin.readline().rstrip("\n"), sys.stdin.readline().rstrip("\n")
    else:
        current = typer.prompt("Current password", hide_input=True)
        new = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    token = json.loads(session_file(app).read_text())["token"]
    app.accounts.change_own_password(me, current, new, keep=token)
    err.print("password changed; your other sessions and tokens have ended")


@guarded
def logout() -> None:
    """End the command line's sign-in (the token is revoked in the database too)."""
    app = application()
    path = session_file(app)
    try:
        token = json.loads(path.read_text())["token"]
    except (FileNotFoundError, KeyError, ValueError):
        err.print("not signed in")
        return
    app.accounts.sign_out(token, TokenKind.CLI)
    path.unlink(missing_ok=True)
    err.print("signed out")


@guarded
def whoami(json_: JsonFlag = False) -> None:
    """The account commands run as."""
    principal = current_principal(application())
    role = principal.role.value if principal.role else ""
    emit({"username": principal.username, "role": role}) if json_ else err.print(f"{principal.username} ({role})")
