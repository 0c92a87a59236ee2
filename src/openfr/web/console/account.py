"""The signed-in user's own account: change the password, set up the second factor (TOTP) with a QR code.

Enrolment is two steps: a fresh secret is shown (QR code and text), and it is stored only once the
authenticator app has produced a valid code from it, so a half-finished set-up never locks anyone out.
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from markupsafe import Markup

from openfr.errors import BadInputError
from openfr.governance import accounts
from openfr.web.deps import Db
from openfr.web.pages import render
from openfr.web.sessions import ConsoleUser

router = APIRouter(include_in_schema=False)


def _page(request, user, session, code: int = 200, **extra) -> Response:
    account = accounts.get_user(session, user.username)
    return render(request, "account.html", user, code, has_totp=account.totp_secret is not None, **extra)


@router.get("/account")
def account(request: Request, user: ConsoleUser, session: Db) -> Response:
    return _page(request, user, session)


@router.post("/account/password")
def change_password(
    request: Request,
    user: ConsoleUser,
    session: Db,
    current: Annotated[str, Form(max_length=1000)],
    new: Annotated[str, Form(max_length=1000)],
) -> Response:
    try:
        with session.begin_nested():
            accounts.change_password(session, user.username, current, new)
    except BadInputError as exc:
        return _page(request, user, session, 400, error=str(exc))
    return _page(request, user, session, message="Password changed.")


@router.post("/account/totp")
def start_totp(request: Request, user: ConsoleUser, session: Db) -> Response:
    import segno

    secret, uri = accounts.new_totp_secret(user.username)
    svg = io.BytesIO()
    segno.make(uri, error="m").save(svg, kind="svg", scale=5, xmldecl=False, svgns=True)
    return _page(request, user, session, secret=secret, qr=Markup(svg.getvalue().decode()))


@router.post("/account/totp/confirm")
def confirm_totp(
    request: Request,
    user: ConsoleUser,
    session: Db,
    secret: Annotated[str, Form(min_length=16, max_length=64)],
    code: Annotated[str, Form(max_length=12)],
) -> Response:
    try:
        accounts.confirm_totp(session, user.username, secret, code)
    except BadInputError as exc:
        return _page(request, user, session, 400, error=str(exc))
    return _page(request, user, session, message="Two-factor sign-in is on: you will be asked for a code.")
