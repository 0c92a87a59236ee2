"""The people tests act as: one account per role on a fresh application, signed in like any client."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from openfr.governance.accounts import TokenKind
from openfr.governance.permissions import Role
from openfr.runtime import Runtime
from openfr.services import Application, Principal
from openfr.settings import EngineSettings, Settings

PASSWORD = "correct horse battery"
DEMO_PASSWORD = "correct horse battery staple"  # the demo accounts' in the console and browser tests


def username(role: Role) -> str:
    return role.value.replace("-", "_")


def make_app(home: Path, database_url: str | None = None, **settings) -> Application:
    settings.setdefault("engine", EngineSettings(workers=1))
    return Application(Runtime(Settings(home=home, database_url=database_url, **settings)))


SECOND_ADMIN = "administrator_2"  # dual control: approves what the first administrator asks for
TEMPORARY = "set by an administrator 0"  # what an administrator gives a new account; replaced at first sign-in


def staff(app: Application) -> dict[Role, Principal]:
    """One signed-in account per role, made as on a new installation: two administrators by the bootstrap,
    the others by the first administrator (the second approving the authorising officer), each replacing the
    password an administrator set at first sign-in.

    That costs about 30 argon2 hashes (seconds), so a new SQLite installation gets a copy of a staffed
    template made once per test process with the same settings: the same database, keys and audit trail
    (sealed, checkpointed) that making the staff here would leave. Anything else (PostgreSQL, a database
    already opened, keys given in settings) makes them for real."""
    template = _template_for(app)
    if template is None:
        return make_staff(app)
    files, people = template
    home = app.runtime.home
    for relative, (mode, data) in files.items():
        (home / relative).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / relative).write_bytes(data)
        (home / relative).chmod(mode)  # keys stay the owner's alone
    return dict(people)


_TEMPLATES: dict[str, tuple[dict[str, tuple[int, bytes]], dict[Role, Principal]]] = {}


def _template_for(app: Application):
    settings = app.runtime.settings
    fresh = "db" not in vars(app.runtime) and not (settings.home.expanduser() / "openfr.db").exists()
    own_keys = settings.audit_key or settings.secrets_key or settings.audit_checkpoint_file
    if settings.database_url or own_keys or not fresh:
        return None
    key = settings.model_dump_json(exclude={"home"})
    if key not in _TEMPLATES:
        with tempfile.TemporaryDirectory() as folder:
            built = Application(Runtime(settings.model_copy(update={"home": Path(folder)})))
            people = make_staff(built)
            built.runtime.db.dispose()  # the write-ahead log folded into the file: a consistent copy
            root = built.runtime.home
            files = {
                p.relative_to(root).as_posix(): (p.stat().st_mode & 0o777, p.read_bytes())
                for p in root.rglob("*")
                if p.is_file()
            }
        _TEMPLATES[key] = files, people
    return _TEMPLATES[key]


def make_staff(app: Application) -> dict[Role, Principal]:
    """What `staff` does, for real, on `app`'s own database."""
    app.accounts.create_first_administrator(username(Role.ADMINISTRATOR), PASSWORD, by="test set-up")
    app.accounts.create_first_administrator(SECOND_ADMIN, TEMPORARY, by="test set-up")
    second = take_over(app, SECOND_ADMIN)
    people = {Role.ADMINISTRATOR: sign_in(app, username(Role.ADMINISTRATOR))}
    for role in Role:
        if role is not Role.ADMINISTRATOR:
            people[role] = add_user(app, people[Role.ADMINISTRATOR], username(role), role.value, approver=second)
    return people


def add_user(
    app: Application, admin: Principal, name: str, role: str, *, approver: Principal | None = None
) -> Principal:
    """An account as a real one comes to be: created by `admin` with a temporary password, approved by a
    second administrator (`approver`, default SECOND_ADMIN) where the role is privileged, and signed into by
    its owner, who sets PASSWORD."""
    rank = "superintendent" if role == Role.AUTHORISING_OFFICER.value else None  # the rank authorising needs
    row = app.staff.create_user(admin, name, role, TEMPORARY, rank=rank)
    if row["awaiting_approval"]:
        app.staff.approve(approver or sign_in(app, SECOND_ADMIN), name)
    return take_over(app, name)


def take_over(app: Application, name: str) -> Principal:
    """The owner's first sign-in: the administrator's password replaced by PASSWORD."""
    done = app.accounts.sign_in(name, TEMPORARY, None, TokenKind.CLI)
    app.accounts.change_own_password(done.principal, TEMPORARY, PASSWORD, keep=done.token)
    principal = app.accounts.principal_for_token(done.token, TokenKind.CLI)  # the same session, now unrestricted
    assert principal is not None and not principal.must_change_password
    return principal


def sign_in(app: Application, name: str, password: str = PASSWORD) -> Principal:
    return app.accounts.sign_in(name, password, None, TokenKind.CLI).principal


def api_token(app: Application, name: str, password: str = PASSWORD) -> str:
    """An API bearer token of `name`'s own, as any client gets one: POST /api/login (a day-long sign-in)."""
    return app.accounts.sign_in(name, password, None, TokenKind.API).token


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


CSRF_FIELD = re.compile(r'name="csrftoken" value="([^"]+)"')


def console_sign_in(client, name: str, password: str = PASSWORD, totp: str = "", *, status: int = 303) -> str:
    """Sign a test client into the console as a browser does; the CSRF token bound to the new session (read
    from the page that follows, as the browser would), or "" when the sign-in gave another `status`."""
    token = CSRF_FIELD.search(client.get("/login").text).group(1)
    form = {"csrftoken": token, "username": name, "password": password, "totp": totp}
    done = client.post("/login", data=form, follow_redirects=False)
    assert done.status_code == status, done.text[:300]
    if status != 303:
        return ""
    return CSRF_FIELD.search(client.get("/account").text).group(1)
