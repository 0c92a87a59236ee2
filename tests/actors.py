"""The people tests act as: one account per role on a fresh application, signed in like any client."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from openfr.governance.credentials import TokenKind
from openfr.governance.permissions import Role
from openfr.runtime import Runtime
from openfr.services import Application, Principal, demo
from openfr.settings import EngineSettings, Settings

T = TypeVar("T")
MODEL_THREADS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 0  # an xdist worker has a core or less
PASSWORD = "correct horse battery"


def username(role: Role) -> str:
    return role.value.replace("-", "_")


def make_app(home: Path, database_url: str | None = None, **settings) -> Application:
    # One worker process for batch jobs, and one model thread per session under pytest-xdist (conftest).
    settings.setdefault("engine", EngineSettings(workers=1, threads=MODEL_THREADS))
    return Application(Runtime(Settings(home=home, database_url=database_url, **settings)))


SECOND_ADMIN = "administrator_2"  # dual control: approves what the first administrator asks for
TEMPORARY = "set by an administrator 0"  # what an administrator gives a new account; replaced at first sign-in


def staff(app: Application) -> dict[Role, Principal]:
    """One signed-in account per role, made as on a new installation: two administrators by the bootstrap,
    the others by the first administrator (the second approving the authorising officer), each replacing the
    password an administrator set at first sign-in.

    That costs about 30 argon2 hashes (seconds), so a new SQLite installation gets a copy of a staffed
    template (see `from_template`). Anything else makes them for real."""
    people = from_template(app, "staff", make_staff)
    return dict(people) if people is not None else make_staff(app)


def demo_installation(app: Application, *, password: str, deployment: bool) -> demo.Demo:
    """`demo.prepare(app, password=..., deployment=...)`, from a template where `from_template` can: the
    demo's clip, accounts and galleries copied in; its deployment (which names the clip by its full path)
    then planned and authorised here for real."""

    def prepare(built: Application) -> str:
        return demo.prepare(built, password=password, deployment=False).password

    if from_template(app, f"demo {password}", prepare) is None:
        return demo.prepare(app, password=password, deployment=deployment)
    clip = demo.prepare_clip(app)  # in the copy already: its path here
    name = None
    if deployment:
        planner, authoriser = demo.sign_in(app, "demo-admin", password), demo.sign_in(app, "demo-authoriser", password)
        name = demo.prepare_deployment(app, clip, planner, authoriser)
    return demo.Demo(password, clip, name)


_TEMPLATE_NAMES = itertools.count()  # templates are made inside templates (the staff of a demo)
_TEMPLATES: dict[tuple[str, str, str], tuple[dict[str, tuple[int, bytes]], object, str | None]] = {}


def from_template(app: Application, what: str, build: Callable[[Application], T]) -> T | None:
    """Copy into `app`'s new installation what `build` leaves in a new installation with the same settings
    (made once per test process): the same database (SQLite: its file; PostgreSQL: CREATE DATABASE ...
    TEMPLATE), keys and sealed, checkpointed audit trail, exactly as building it here would leave them;
    `build`'s result is returned. None, with nothing done, where a copy would not be the same: a database
    already opened or not empty, keys or files kept outside the installation's folder."""
    settings = app.runtime.settings
    outside = settings.audit_key or settings.secrets_key or settings.audit_checkpoint_file or settings.web.video_folder
    if outside or "db" in vars(app.runtime) or not _empty_database(settings):
        return None
    postgres = settings.database_url if _is_postgres(settings.database_url) else None
    key = (what, settings.model_dump_json(exclude={"home", "database_url"}), _server(postgres))
    if key not in _TEMPLATES:
        with tempfile.TemporaryDirectory() as folder:
            database_url = _new_database(postgres, f"openfr_template_{next(_TEMPLATE_NAMES)}")
            built = Application(
                Runtime(settings.model_copy(update={"home": Path(folder), "database_url": database_url}))
            )
            result = build(built)
            assert result is not None, "a template's build returns what the tests need (None means no template)"
            built.runtime.close()  # SQLite: the write-ahead log folded into the file; PostgreSQL: no session left
            root = built.runtime.home
            files = {
                p.relative_to(root).as_posix(): (p.stat().st_mode & 0o777, p.read_bytes())
                for p in root.rglob("*")
                if p.is_file()
            }
        _TEMPLATES[key] = files, result, database_url
    files, result, database_url = _TEMPLATES[key]
    if database_url:
        _copy_database(database_url, settings.database_url)
    home, database = app.runtime.home, _sqlite_file(settings)
    for relative, (mode, data) in files.items():
        path = database.with_name(relative) if relative.startswith("openfr.db") else home / relative
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)  # keys stay the owner's alone
    return result  # type: ignore[return-value]


def _server(database_url: str | None) -> str:
    return "" if not database_url else sa.make_url(database_url).set(database="").render_as_string(hide_password=False)


def _admin(database_url: str) -> sa.Engine:
    url = sa.make_url(database_url).set(database="postgres")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _is_postgres(database_url: str | None) -> bool:
    return bool(database_url) and sa.make_url(database_url).get_backend_name() == "postgresql"


def _sqlite_file(settings: Settings) -> Path:
    """Where the SQLite database of these settings lives (the home's openfr.db by default)."""
    return Path(sa.make_url(settings.resolved_database_url()).database or "")


def _empty_database(settings: Settings) -> bool:
    if not _is_postgres(settings.database_url):
        sqlite = _sqlite_file(settings)
        return sqlite.name == "openfr.db" and not sqlite.exists()
    engine = sa.create_engine(settings.database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            tables = connection.exec_driver_sql(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).scalar()
    finally:
        engine.dispose()
    return tables == 0


def _new_database(database_url: str | None, name: str) -> str | None:
    if not database_url:
        return None
    admin = _admin(database_url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return sa.make_url(database_url).set(database=name).render_as_string(hide_password=False)


def _copy_database(template_url: str, database_url: str) -> None:
    """The test's (empty, never opened) database replaced by a copy of the template, by PostgreSQL itself."""
    template, name = sa.make_url(template_url).database, sa.make_url(database_url).database
    admin = _admin(database_url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {template}")
    admin.dispose()


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


@dataclass(frozen=True)
class Ran:
    """What a command left: its exit status and what it printed (the shape of subprocess.CompletedProcess)."""

    returncode: int
    stdout: str
    stderr: str


def openfr(*args: str, env: dict | None = None, stdin: str | None = None, process: bool = False, timeout: float = 300):
    """Run `openfr ARGS` as a user types it, with `env` over this process's environment and `stdin` piped in.

    By default in this process through typer's CliRunner: the same command tree and the same settings read
    from the environment, without a new interpreter's second of start-up. `process=True` runs a real process
    for what only a process shows: `main()`'s umask, another process reaching the same database, start-up
    time and exit on a signal. An exception that escapes a command is written to `stderr` as the interpreter
    would, so a test that a command never shows a traceback holds in both."""
    if process:
        return subprocess.run(
            [sys.executable, "-m", "openfr", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            env={**os.environ, **(env or {})},
        )
    from typer.testing import CliRunner

    from openfr.cli import app

    done = CliRunner().invoke(app, list(args), env=env, input=stdin)
    stderr = done.stderr
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        stderr += "".join(traceback.format_exception(done.exception))
    return Ran(done.exit_code, done.stdout, stderr)


def cli_login(env: dict, name: str, password: str = PASSWORD, *, process: bool = False) -> None:
    done = openfr("login", name, "--password-stdin", env=env, stdin=password + "\n", process=process)
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


def console_client(web, name: str, password: str = PASSWORD, *, htmx: bool = True):
    """A test client signed into the console `web` (a FastAPI app) as `name`; `.csrf` is its session's CSRF
    token, sent as the x-csrftoken header too where `htmx` (as the page's script and htmx send it)."""
    from fastapi.testclient import TestClient

    client = TestClient(web, base_url="https://testserver")
    client.csrf = console_sign_in(client, name, password)
    if htmx:
        client.headers["x-csrftoken"] = client.csrf
    return client


@contextlib.contextmanager
def demo_console(home: Path, *, deployment: bool = False) -> Iterator[tuple[Application, str]]:
    """The demo's installation (PASSWORD for every account) served by a real console server: the
    application and the server's base URL."""
    from web_server import running_console

    app = make_app(home)
    demo_installation(app, password=PASSWORD, deployment=deployment)
    with running_console(app) as base:
        yield app, base


def remove_audit_triggers(db) -> None:
    """What someone with direct database access could do first: remove the append-only triggers."""
    with db.engine.begin() as connection:
        if db.is_postgres:
            connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        else:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
