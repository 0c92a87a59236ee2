"""Who the command line runs as: the token `openfr login` keeps in $OPENFR_HOME/cli/session.json (readable by
its owner only), turned back into a principal by the account service on every command."""

from __future__ import annotations

import json
import os
from pathlib import Path

from openfr.errors import NotSignedInError
from openfr.governance.credentials import TokenKind
from openfr.services import Application, Principal

SIGN_IN_HINT = "run `openfr login USERNAME` (commands that read or change the store run as an account)"


def session_file(app: Application) -> Path:
    return app.runtime.home / "cli" / "session.json"


def current_principal(app: Application) -> Principal:
    try:
        token = json.loads(session_file(app).read_text())["token"]
    except (FileNotFoundError, KeyError, ValueError):
        raise NotSignedInError(f"not signed in: {SIGN_IN_HINT}") from None
    principal = app.accounts.principal_for_token(token, TokenKind.CLI)
    if principal is None:
        raise NotSignedInError(f"the sign-in has expired or was ended: {SIGN_IN_HINT}")
    return principal


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    tmp.replace(path)
