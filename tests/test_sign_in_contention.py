"""A sign-in's argon2 work holds no database connection, so no write lock: on SQLite a sign-in hashing at low
priority (the heavy pool runs at nice 10) inside its write transaction made every other writer wait, and a
camera storing an alert stalled behind a crowd of sign-ins (benchmarks/faults.py, docs/benchmarks.md). The
account rules still hold when the password changes between the hash and the write. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from actors import PASSWORD, make_app
from openfr.governance import credentials
from openfr.governance.credentials import AuthError, TokenKind
from openfr.store import User


@pytest.fixture
def app(database_url, tmp_path):
    application = make_app(tmp_path, database_url)
    application.accounts.create_first_administrator("admin", PASSWORD, by="test set-up")
    return application


class WatchedHasher:
    """The real argon2 hasher, calling `during()` inside each hash and verify (the slow part)."""

    def __init__(self, during):
        self.real, self.during, self.calls = credentials._hasher, during, 0

    def hash(self, password, **kwargs):
        self.calls += 1
        self.during()
        return self.real.hash(password, **kwargs)

    def verify(self, stored, password):
        self.calls += 1
        self.during()
        return self.real.verify(stored, password)

    def __getattr__(self, name):
        return getattr(self.real, name)


def _another_writer_commits(app) -> None:
    """What a camera storing an alert needs meanwhile: no connection of ours held, and on SQLite the write
    lock free at once (timeout 0: a held lock fails here instead of waiting)."""
    engine = app.runtime.db.engine
    assert engine.pool.checkedout() == 0, "the sign-in holds a database connection while it hashes"
    if engine.dialect.name == "sqlite":
        writer = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # sqlite3.OperationalError 'database is locked' if a writer holds it
            writer.execute("ROLLBACK")
        finally:
            writer.close()


@pytest.mark.parametrize(
    ("name", "password", "signed_in"),
    [("admin", PASSWORD, True), ("admin", "a wrong password", False), ("nobody", PASSWORD, False)],
)
def test_a_sign_in_hashes_without_holding_the_database(app, monkeypatch, name, password, signed_in):
    hasher = WatchedHasher(lambda: _another_writer_commits(app))
    monkeypatch.setattr(credentials, "_hasher", hasher)
    if signed_in:
        assert app.accounts.sign_in(name, password, None, TokenKind.API).principal.username == name
    else:
        with pytest.raises(AuthError):
            app.accounts.sign_in(name, password, None, TokenKind.API)
    assert hasher.calls == 1  # one argon2 computation, whoever asks: timing tells nothing


def test_a_password_changed_while_the_old_one_is_hashed_is_checked_again(app, monkeypatch):
    replacement = "a brand new passphrase"

    def changed_meanwhile():
        if hasher.calls == 1:  # the check before the write transaction: the owner changes the password now
            with app.runtime.db.transaction() as session:
                user = session.scalars(sa.select(User).where(User.username == "admin")).one()
                credentials.set_password(user, replacement, must_change=False)

    hasher = WatchedHasher(changed_meanwhile)
    monkeypatch.setattr(credentials, "_hasher", hasher)
    with pytest.raises(AuthError):  # the old password was right when hashed, and is no longer
        app.accounts.sign_in("admin", PASSWORD, None, TokenKind.API)
    with app.runtime.db.read() as session:
        assert session.scalars(sa.select(User.failed_logins).where(User.username == "admin")).one() == 1
    assert app.accounts.sign_in("admin", replacement, None, TokenKind.API).principal.username == "admin"
