"""`openfr user ...`: accounts, managed by a signed-in administrator under dual control (a second one
approves privileged accounts: `openfr user approve`). While fewer than two administrators are active (a new
installation), `openfr user create NAME --role admin` run with installation access makes one directly
(the bootstrap, recorded in the audit trail)."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, YesFlag, application, confirmed, emit, err, guarded, signed_in
from openfr.cli.identity import current_principal
from openfr.errors import BadInputError
from openfr.governance.permissions import Role, parse_role

user_app = typer.Typer(
    help="Accounts: create, list, enable/disable, password, rank, TOTP; list and revoke their API tokens.",
    no_args_is_help=True,
)

UsernameArg = Annotated[str, typer.Argument(help="Username.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input instead of a prompt.")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("create")
@guarded
def create(
    username: UsernameArg,
    role: Annotated[str, typer.Option(help="officer, operator, authorising-officer, investigator, auditor, admin.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    rank: Annotated[
        str, typer.Option(help="Police rank (required for an authorising officer), e.g. superintendent.")
    ] = "",
    password_stdin: PasswordStdin = False,
    json: JsonFlag = False,
) -> None:
    """Create an account; its owner replaces the password at first sign-in. On a new installation, the first
    two administrators: `openfr user create alice --role admin` (no sign-in needed while fewer than two are
    active)."""
    app = application()
    parsed = parse_role(role)
    if parsed is Role.ADMINISTRATOR and app.accounts.bootstrap_open():
        row = app.accounts.create_first_administrator(
            username, _password(password_stdin), by=f"installation (os user {getpass.getuser()})", display_name=name
        )
    elif not app.accounts.has_accounts():
        raise BadInputError("the first account must be an administrator (--role admin)")
    else:
        me = current_principal(app)
        row = app.staff.create_user(me, username, parsed.value, _password(password_stdin), name, rank or None)
    if json:
        emit(row)
        return
    err.print(f"user {row['username']} created with role {row['role']}")
    if row["awaiting_approval"]:
        err.print(f"it stays disabled until a second administrator runs: openfr user approve {row['username']}")


@user_app.command("list")
@guarded
def list_() -> None:
    """Accounts, one JSON line each (never a hash or secret)."""
    app, me = signed_in()
    for row in app.staff.list_users(me):
        emit(row)


@user_app.command("disable")
@guarded
def disable(
    username: UsernameArg,
    reason: Annotated[str, typer.Option(help="Why (required; recorded), e.g. 'left the force'.")] = "",
    yes: YesFlag = False,
) -> None:
    """Refuse the account's logins, sessions and tokens at once (its history stays). Asks to confirm."""
    app, me = signed_in()
    if reason.strip():  # without a reason the service refuses below, before anything is asked
        row = app.staff.disable_preview(me, username)
        question = f"Disable {username} ({row['role']}), ending their sessions and {row['live_tokens']} API token(s)?"
        confirmed(question, yes)
    app.staff.set_active(me, username, False, reason)
    err.print(f"user {username} disabled")


@user_app.command("enable")
@guarded
def enable(username: UsernameArg, reason: Annotated[str, typer.Option(help="Why (optional; recorded).")] = "") -> None:
    app, me = signed_in()
    row = app.staff.set_active(me, username, True, reason)
    waits = row["awaiting_approval"]
    err.print(f"user {username} awaits a second administrator's approval" if waits else f"user {username} enabled")


@user_app.command("approve")
@guarded
def approve(username: UsernameArg) -> None:
    """Approve a privileged account's creation, re-enabling or password reset asked for by another administrator."""
    app, me = signed_in()
    app.staff.approve(me, username)
    err.print(f"user {username} approved and enabled")


@user_app.command("password")
@guarded
def password(username: UsernameArg, password_stdin: PasswordStdin = False) -> None:
    """Reset someone's password (and unlock the account); they must replace it at next sign-in."""
    app, me = signed_in()
    row = app.staff.set_password(me, username, _password(password_stdin))
    err.print(f"password of {username} reset; they must change it at next sign-in")
    if row["awaiting_approval"]:
        err.print(f"the account stays disabled until a second administrator runs: openfr user approve {username}")


@user_app.command("rank")
@guarded
def rank(username: UsernameArg, rank: Annotated[str, typer.Argument(help="e.g. superintendent, inspector.")]) -> None:
    """Record an account's police rank; an authorising officer's change waits for a second administrator."""
    app, me = signed_in()
    row = app.staff.set_rank(me, username, rank)
    waits = row["awaiting_approval"]
    err.print(f"rank of {username}: {row['rank']}" + (" (awaits a second administrator's approval)" if waits else ""))


@user_app.command("totp")
@guarded
def totp(username: UsernameArg) -> None:
    """Turn on the second factor; prints the otpauth:// URI for an authenticator app, once."""
    app, me = signed_in()
    print(app.staff.enable_totp(me, username))  # stdout only: for the user to scan or paste, never logged


@user_app.command("tokens")
@guarded
def tokens(username: UsernameArg) -> None:
    """A user's API tokens: id, label, dates, revoked (never the token itself); one JSON line each."""
    app, me = signed_in()
    for row in app.staff.tokens(me, username):
        emit(row)


@user_app.command("revoke-token")
@guarded
def revoke_token(
    username: UsernameArg,
    token_id: Annotated[int, typer.Argument(help="The token's id (see `openfr user tokens`).")],
    reason: Annotated[str, typer.Option(help="Why it is revoked (recorded).")],
    yes: YesFlag = False,
) -> None:
    """Revoke one API token now. Asks to confirm."""
    app, me = signed_in()
    if reason.strip():  # without a reason the service refuses below, before anything is asked
        token = app.staff.token(me, username, token_id)
        confirmed(f"Revoke API token {token_id} of {username} ({token['name'] or 'no label'}) for good?", yes)
    app.staff.revoke_api_token(me, username, token_id, reason)
    err.print(f"token {token_id} of {username} revoked")
