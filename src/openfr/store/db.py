"""Database connection and schema migration (Alembic, run programmatically at start-up)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def head_revision() -> str:
    """The newest migration's revision, read from the file names: revisions are numbered in order, each file
    is named after its revision and revises the one numbered before it (a test holds every migration to
    that). Alembic would import every migration to find it: hundredths of a second on every command."""
    return max(p.name.partition("_")[0] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


_READ_ONLY = "openfr_read_only"


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    revision_at_open: str | None = None  # the schema's revision when this process opened the store, before migrating

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work that may write: committed together, or rolled back together on any error.

        On SQLite it takes the write lock at its start (BEGIN IMMEDIATE), waiting up to the busy timeout
        for another writer, so two units of work never read the same state and then both write on it (two
        audit events claiming one position, a lost update). Keep these short: no model runs inside one."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A consistent read-only snapshot that never waits for writers (SQLite WAL; PostgreSQL MVCC)."""
        with self.readers.begin() as session:
            yield session

    def had_revision(self, revision: str) -> bool:
        """Whether the store's schema already included migration `revision` when this process opened it."""
        # One line of numbered revisions (see head_revision): an earlier revision has a smaller number.
        return self.revision_at_open is not None and self.revision_at_open >= revision

    def use_audit_seal(self, audit_seal) -> None:
        """From now on, sessions seal the audit events they append and checkpoint the head (an AuditSeal)."""
        for maker in (self.sessions, self.readers):
            maker.configure(info={**maker.kw.get("info", {}), "audit_seal": audit_seal})

    def purge_freed_pages(self) -> None:
        """After deleting biometric data: move SQLite's write-ahead log into the (zeroed) database file and
        truncate it, so no copy of the old pages survives on disk. PostgreSQL reclaims dead rows by VACUUM."""
        if self.engine.dialect.name == "sqlite":
            connection = self.engine.raw_connection()  # outside any transaction: a checkpoint cannot run in one
            try:
                connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLAlchemy emits BEGIN itself (see _sqlite_begin), not the driver, so writers can take the lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer (searches during an import); foreign keys make deletes cascade.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Deleted rows are overwritten with zeros, not left in free pages: erased biometric data must be gone.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(connection) -> None:
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _checkpoint_after_commit(session: Session) -> None:
    """The audit head, committed: checkpointed outside the database (governance/seal.py)."""
    head = session.info.pop("audit_head", None)
    seal = session.info.get("audit_seal")
    if head is not None and seal is not None:
        seal.write_checkpoint(head)


def _forget_head(session: Session, *_args) -> None:
    session.info.pop("audit_head", None)  # rolled back: nothing to checkpoint


def open_database(url: str, *, migrate: bool = True, audit_seal=None) -> Database:
    """`audit_seal` (an AuditSeal): sessions seal the audit events they append and checkpoint the head."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a failed statement is logged without its values (a camera URL can hold a password).
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    with engine.begin() as connection:  # read and upgrade under one lock: another process sees the result
        revision_at_open = MigrationContext.configure(connection).get_current_revision()
        if migrate and revision_at_open != head_revision():
            cfg = alembic_config(url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    info = {"audit_seal": audit_seal} if audit_seal is not None else {}
    readers = sessionmaker(engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False, info=info)
    writers = sessionmaker(engine, expire_on_commit=False, info=info)
    event.listen(writers, "after_commit", _checkpoint_after_commit)
    event.listen(writers, "after_rollback", _forget_head)
    return Database(engine, writers, readers, revision_at_open)
