"""The people tests act as: one account per role on a fresh application, signed in like any client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from openfr.governance.accounts import TokenKind
from openfr.governance.permissions import Role
from openfr.runtime import Runtime
from openfr.services import Application, Principal
from openfr.settings import EngineSettings, Settings

PASSWORD = "correct horse battery"


def username(role: Role) -> str:
    return role.value.replace("-", "_")


def make_app(home: Path, database_url: str | None = None, **settings) -> Application:
    settings.setdefault("engine", EngineSettings(workers=1))
    return Application(Runtime(Settings(home=home, database_url=database_url, **settings)))


def staff(app: Application) -> dict[Role, Principal]:
    """One signed-in account per role; the administrator is created as on a new installation."""
    app.accounts.create_first_administrator(username(Role.ADMINISTRATOR), PASSWORD, by="test set-up")
    admin = sign_in(app, username(Role.ADMINISTRATOR))
    for role in Role:
        if role is not Role.ADMINISTRATOR:
            app.accounts.create_user(admin, username(role), role.value, PASSWORD)
    return {role: sign_in(app, username(role)) for role in Role}


def sign_in(app: Application, name: str, password: str = PASSWORD) -> Principal:
    return app.accounts.sign_in(name, password, None, TokenKind.CLI).principal


def openfr(*args: str, env: dict | None = None, stdin: str | None = None, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "openfr", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


def cli_login(env: dict, name: str, password: str = PASSWORD) -> None:
    done = openfr("login", name, "--password-stdin", env=env, stdin=password + "\n")
    assert done.returncode == 0, done.stderr
