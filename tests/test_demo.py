"""`openfr demo` never lands in a real installation (issue 21, finding 9): its six accounts share one password
and skip dual control, so it refuses an operational installation and any store holding data it did not make,
in one line, with a non-zero exit and nothing changed; on its own store it runs again and again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from actors import PASSWORD, make_app, openfr, sign_in, staff
from openfr.errors import ConflictError
from openfr.governance import audit, events
from openfr.governance.credentials import AuthError, TokenKind
from openfr.services import demo
from openfr.store import AuditEvent, Gallery, User


def _counts(app) -> dict[str, int]:
    with app.runtime.db.read() as session:
        return {
            table.__name__: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in (User, Gallery, AuditEvent)
        }


def test_the_demo_refuses_a_store_holding_a_real_installation_and_changes_nothing(tmp_path):
    """`openfr demo` pointed (by OPENFR_DATABASE_URL) at a real installation's store: refused, one line."""
    real = make_app(tmp_path / "real")
    staff(real)  # two administrators and one account per role, as on a police force's installation
    before = _counts(real)
    url = f"sqlite:///{real.runtime.home / 'openfr.db'}"
    key = (real.runtime.home / "keys" / "audit.key").read_text().strip()  # its trail's key too: the store opens
    env = {"OPENFR_DATABASE_URL": url, "OPENFR_AUDIT_KEY": key}
    done = openfr("demo", "--home", str(tmp_path / "demo"), "--no-serve", env=env)
    assert done.returncode != 0 and "Password" not in done.stdout
    refusal = done.stderr.strip().splitlines()[-1]
    assert refusal.startswith("openfr: error: openfr demo refuses a store that holds accounts"), done.stderr
    assert "Traceback" not in done.stderr
    assert _counts(real) == before
    with real.runtime.db.read() as session:
        assert not session.scalar(sa.select(User.id).where(User.username.like("demo-%")))
    assert not (tmp_path / "demo" / "videos").exists()  # not even the clip
    real.close()


def test_the_demo_refuses_an_operational_installation(tmp_path):
    done = openfr("demo", "--home", str(tmp_path / "demo"), "--no-serve", env={"OPENFR_OPERATIONAL": "true"})
    assert done.returncode != 0 and "Password" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("openfr: error: openfr demo refuses an operational installation"), done.stderr
    app = make_app(tmp_path / "demo")
    assert _counts(app)["User"] == 0  # nothing was made
    app.close()


def _foreign_account(app):
    app.accounts.create_first_administrator("alice", PASSWORD, by="installation")


def _foreign_gallery(app):
    with app.runtime.db.transaction() as session:
        session.add(Gallery(name="custody", purpose="real", space=app.runtime.engine.space, created_by="alice"))


def _foreign_event(app):
    with app.runtime.db.transaction() as session:
        audit.record(session, "alice", events.Login(channel="web"), "user:alice", "a real sign-in")


@pytest.mark.parametrize(
    ("made", "named"),
    [(_foreign_account, "accounts"), (_foreign_gallery, "galleries"), (_foreign_event, "audit events")],
)
def test_anything_the_demo_did_not_make_is_refused(tmp_path, made, named):
    app = make_app(tmp_path / "home")
    made(app)
    before = _counts(app)
    with pytest.raises(ConflictError, match=f"refuses a store that holds [a-z, ]*{named}[a-z, ]* it did not make"):
        demo.prepare(app, password=PASSWORD, deployment=False)
    assert _counts(app) == before
    app.close()


def test_the_demo_runs_again_on_its_own_store_after_it_was_used(tmp_path):
    """The README's Quick start runs the demo every time: its own data, what its accounts did in the console
    and a mistyped sign-in do not make its store a real one."""
    app = make_app(tmp_path / "home")
    first = demo.prepare(app, password=PASSWORD, deployment=True)
    admin = sign_in(app, "demo-admin")
    app.galleries.create(admin, "demo-extra", "made in the demo console")
    with pytest.raises(AuthError):
        app.accounts.sign_in("nobody-real", "guess", None, TokenKind.CLI)
    again = demo.prepare(app, deployment=True)
    assert again.deployment == first.deployment and again.password != PASSWORD
    assert sign_in(app, "demo-operator", again.password).role.value == "operator"
    app.close()
