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
from openfr.governance.credentials import TokenKind
from openfr.governance.scopes import MAX_TOKEN_DAYS
from openfr.web.deps import AppDep, RowId
from openfr.web.error_answers import status_for
from openfr.web.pages import render
from openfr.web.sessions import COOKIE, ConsoleUser

router = APIRouter(include_in_schema=False)


def _page(request, me, app, code: int = 200, **extra) -> Response:
    return render(
        request, "account.html", me, code, has_totp=app.accounts.me(me)["totp"], tokens=app.accounts.my_tokens(me),
        scopes=app.accounts.token_scopes(me), max_days=MAX_TOKEN_DAYS, **extra,
    )  # fmt: skip


@router.get("/account")
def account(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return _page(request, me, app)


@router.post("/account/password")
def change_password(
    request: Request,
    me: ConsoleUser,
    app: AppDep,
    current: Annotated[str, Form(max_length=1000)],
    new: Annotated[str, Form(max_length=1000)],
) -> Response:
    try:
        app.accounts.change_own_password(me, current, new, keep=request.cookies.get(COOKIE))
    except BadInputError as exc:
        return _page(request, me, app, 400, error=str(exc))
    me = app.accounts.principal_for_token(request.cookies.get(COOKIE, ""), TokenKind.WEB) or me  # restriction lifted
    return _page(request, me, app, message="Password changed.")


@router.post("/account/totp")
def start_totp(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    import segno

    secret, uri = app.accounts.start_totp(me)
    svg = io.BytesIO()
    segno.make(uri, error="m").save(svg, kind="svg", scale=5, xmldecl=False, svgns=True)
    return _page(request, me, app, secret=secret, qr=Markup(svg.getvalue().decode()))


@router.post("/account/totp/confirm")
def confirm_totp(
    request: Request,
    me: ConsoleUser,
    app: AppDep,
    secret: Annotated[str, Form(max_length=64)],
    code: Annotated[str, Form(max_length=12)],
    password: Annotated[str, Form(max_length=1000)] = "",
    current_code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    try:
        app.accounts.confirm_totp(me, secret, code, password=password, current_code=current_code or None)
    except BadInputError as exc:
        return _page(request, me, app, 400, error=str(exc))
    return _page(request, me, app, message="Two-factor sign-in is on: you will be asked for a code.")


@router.post("/account/tokens")
def issue_token(
    request: Request,
    me: ConsoleUser,
    app: AppDep,
    name: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[str, Form(max_length=20)] = "",
    days: Annotated[int, Form(ge=1, le=MAX_TOKEN_DAYS)] = 30,
    password: Annotated[str, Form(max_length=1000)] = "",
    totp: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """An API token for yourself: shown once on the answer page, never again (the page is not cached)."""
    form = {"name": name, "scope": scope, "days": days}
    try:
        made = app.accounts.issue_own_token(me, name, scope, days, password=password, totp=totp or None)
    except BadInputError as exc:
        return _page(request, me, app, status_for(exc), token_error=str(exc), token_form=form)
    page = _page(request, me, app, 201, new_token=made)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: RowId, request: Request, me: ConsoleUser, app: AppDep):
    try:
        app.accounts.revoke_own_token(me, token_id)
    except BadInputError as exc:
        return _page(request, me, app, status_for(exc), token_error=str(exc))
    return _page(request, me, app, token_message=f"Token {token_id} revoked.")
