"""`openfr user ...`: local accounts (the first administrator is made here)."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, emit, err, guarded, services

user_app = typer.Typer(help="Accounts: create, list, enable/disable, password, TOTP, API tokens.", no_args_is_help=True)

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
    password_stdin: PasswordStdin = False,
    json: JsonFlag = False,
) -> None:
    """Create an account (e.g. the first administrator: `openfr user create alice --role admin`)."""
    from openfr.governance import accounts

    svc = services()
    password = _password(password_stdin)
    with svc.db.transaction() as session:
        user = accounts.create_user(session, username, role, password, actor=getpass.getuser(), display_name=name)
        result = {"username": user.username, "role": user.role}
    emit(result) if json else err.print(f"user {username} created with role {result['role']}")


@user_app.command("list")
@guarded
def list_() -> None:
    """Accounts, one JSON line each (never a hash or secret)."""
    from sqlalchemy import select

    from openfr.store.accounts import User

    svc = services()
    with svc.db.transaction() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            emit(
                {
                    "username": user.username,
                    "name": user.display_name,
                    "role": user.role,
                    "active": user.active,
                    "totp": user.totp_secret is not None,
                }
            )


def _set_active(username: str, active: bool) -> None:
    from openfr.governance import accounts

    svc = services()
    with svc.db.transaction() as session:
        accounts.set_active(session, username, active, actor=getpass.getuser())
    err.print(f"user {username} {'enabled' if active else 'disabled'}")


@user_app.command("disable")
@guarded
def disable(username: UsernameArg) -> None:
    """Refuse the account's logins and tokens (its history stays)."""
    _set_active(username, False)


@user_app.command("enable")
@guarded
def enable(username: UsernameArg) -> None:
    _set_active(username, True)


@user_app.command("password")
@guarded
def password(username: UsernameArg, password_stdin: PasswordStdin = False) -> None:
    """Set a new password (and unlock the account)."""
    from openfr.governance import accounts

    svc = services()
    secret = _password(password_stdin)
    with svc.db.transaction() as session:
        accounts.set_password(session, username, secret, actor=getpass.getuser())
    err.print(f"password of {username} changed")


@user_app.command("totp")
@guarded
def totp(username: UsernameArg) -> None:
    """Turn on the second factor; prints the otpauth:// URI for an authenticator app, once."""
    from openfr.governance import accounts

    svc = services()
    with svc.db.transaction() as session:
        uri = accounts.enable_totp(session, username, actor=getpass.getuser())
    print(uri)  # stdout only: for the user to scan or paste, never logged


@user_app.command("token")
@guarded
def token(
    username: UsernameArg,
    name: Annotated[str, typer.Option(help="What the token is for.")],
    days: Annotated[int, typer.Option(min=1, max=366, help="Days until it expires.")] = 30,
) -> None:
    """Issue an API bearer token; printed once, only its digest is kept."""
    from openfr.governance import accounts

    svc = services()
    with svc.db.transaction() as session:
        secret = accounts.issue_token(session, username, name, actor=getpass.getuser(), days=days)
    print(secret)
