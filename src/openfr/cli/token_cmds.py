"""`openfr token ...`: your own API tokens, for an integration or a phone. Only you can make a token of
yours (signed in, with your password again and a fresh code if you have a second factor); it carries one
scope within your role (read, search, enrol, live: `openfr token scopes`) and lasts at most 90 days.
Administrators list and revoke other people's tokens (`openfr user tokens`, `openfr user revoke-token`),
never make them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, emit, err, guarded, signed_in
from openfr.governance.scopes import MAX_TOKEN_DAYS

token_app = typer.Typer(help="Your own API tokens: make one, list them, revoke one.", no_args_is_help=True)


@token_app.command("create")
@guarded
def create(
    name: Annotated[str, typer.Option("--name", help="What the token is for (e.g. 'phone 12', 'reporting job').")],
    scope: Annotated[str, typer.Option(help="read, search, enrol or live (within your role): openfr token scopes.")],
    days: Annotated[int, typer.Option(min=1, max=MAX_TOKEN_DAYS, help="Days until it expires.")] = 30,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read your password (then a code, if asked) from stdin.")
    ] = False,
    totp: Annotated[str | None, typer.Option("--totp", help="A fresh code from your authenticator app.")] = None,
    json_: JsonFlag = False,
) -> None:
    """Make an API token for yourself; printed once on stdout (only its digest is kept)."""
    app, me = signed_in()
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Your password", hide_input=True)
    if totp is None and app.accounts.me(me)["totp"]:
        totp = sys.stdin.readline().strip() if password_stdin else typer.prompt("Code from your authenticator app")
    row = app.accounts.issue_own_token(me, name, scope, days, password=password, totp=totp)
    if json_:
        emit(row)
        return
    print(row["token"])  # stdout only: for the integration that will hold it, never logged
    err.print(f"token {row['id']} ({row['scope']}) expires {row['expires_at'][:10]}; shown once, keep it secret")


@token_app.command("list")
@guarded
def list_() -> None:
    """Your API tokens: id, label, scope, dates, state (never the token); one JSON line each."""
    app, me = signed_in()
    for row in app.accounts.my_tokens(me):
        emit(row)


@token_app.command("scopes")
@guarded
def scopes() -> None:
    """The scopes a token of yours can carry, and what each lets it do for your role."""
    app, me = signed_in()
    for row in app.accounts.token_scopes(me):
        emit(row)


@token_app.command("revoke")
@guarded
def revoke(
    token_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="The token's id (openfr token list).")],
) -> None:
    """Revoke one of your API tokens now."""
    app, me = signed_in()
    app.accounts.revoke_own_token(me, token_id)
    err.print(f"token {token_id} revoked")
