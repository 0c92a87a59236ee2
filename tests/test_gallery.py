"""Identity store, enrolment and 1:N search, each test on SQLite and on PostgreSQL + pgvector."""

import itertools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from actors import PASSWORD, cli_login, make_app, openfr, staff
from gallery_data import build_team_gallery
from openfr.errors import BadInputError, EmbeddingSpaceError, NotFoundError
from openfr.gallery import repository
from openfr.gallery.search import GallerySearcher
from openfr.governance.permissions import Role
from openfr.services.searches import SearchRequest
from openfr.settings import GallerySettings, Settings
from openfr.store import SearchRecord, SourceImage, Subject, Template
from openfr.types import Embedding


@pytest.fixture(scope="module")
def team(tmp_path_factory, engine, samples, sample_paths):
    return build_team_gallery(tmp_path_factory.mktemp("team"), engine, samples, sample_paths)


REQUEST = SearchRequest(gallery="custody", reason="test of 1:N search", crime_ref="TEST/1", top=5, show_all=True)


def _import(url, home, team, name="custody", **settings):
    """A store with the team gallery enrolled by its administrator; (application, people, report)."""
    app = make_app(home, url, **settings)
    people = staff(app)
    report = app.galleries.enrol_folder(people[Role.ADMINISTRATOR], name, team["dir"], create="test gallery")
    return app, people, report


def _search(app, people, photo: bytes, request: SearchRequest = REQUEST):
    return app.search.search(people[Role.INVESTIGATOR], request, photo).candidates


def test_import_is_idempotent_and_search_ranks_the_mate_first(
    database_url, tmp_path, engine, team, samples, sample_paths
):
    app, people, report = _import(database_url, tmp_path, team)
    assert report.enrolled + len(report.rejected) == report.seen == 2 * team["subjects"]
    assert report.enrolled >= 2 * team["subjects"] - 4
    again = app.galleries.enrol_folder(people[Role.ADMINISTRATOR], "custody", team["dir"])
    assert again.already == report.seen and again.enrolled == 0
    with app.runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Template)) == report.enrolled
    candidates = _search(app, people, sample_paths["yaoming"].read_bytes())
    assert [c.rank for c in candidates] == [1, 2, 3, 4, 5]
    assert candidates[0].subject == team["yao"]
    assert candidates[0].score > engine.threshold > candidates[1].score
    assert all(a.score >= b.score for a, b in itertools.pairwise(candidates))


def test_pgvector_search_inside_postgresql_ranks_the_mate_first(postgres_server, tmp_path, engine, team, sample_paths):
    url = postgres_server.get_uri().replace("postgresql://", "postgresql+psycopg://")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("CREATE DATABASE openfr_pgvector_path")
    admin.dispose()
    url = postgres_server.get_uri("openfr_pgvector_path").replace("postgresql://", "postgresql+psycopg://")
    app, people, _ = _import(url, tmp_path, team, gallery=GallerySettings(postgres_search="pgvector"))
    candidates = _search(app, people, sample_paths["yaoming"].read_bytes())
    assert candidates[0].subject == team["yao"]
    assert candidates[0].score > engine.threshold > candidates[1].score
    assert not (tmp_path / "index").exists()  # nothing outside the database


def test_search_with_another_models_embedding_is_refused(database_url, tmp_path, engine, team):
    app, _, _ = _import(database_url, tmp_path, team)
    foreign = Embedding("dlib@55533b28a958", np.ones(128, np.float32) / np.sqrt(128))
    with app.runtime.db.read() as session, pytest.raises(EmbeddingSpaceError, match="was built with"):
        app.runtime.searcher.rank(session, repository.get_gallery(session, "custody"), foreign)
    with app.runtime.db.transaction() as session, pytest.raises(EmbeddingSpaceError, match="reembed"):
        repository.get_or_create_gallery(session, "custody", "dlib@55533b28a958", created_by="test")


def test_deleting_a_subject_leaves_nothing_behind(database_url, tmp_path, engine, team, sample_paths):
    app, people, _ = _import(database_url, tmp_path, team)  # the searcher keeps its built index under the data dir
    photo = sample_paths["yaoming"].read_bytes()
    assert _search(app, people, photo)[0].subject == team["yao"]
    with app.runtime.db.read() as session:
        subject_id = session.scalar(sa.select(Subject.id).where(Subject.external_id == team["yao"]))
        shas = set(session.scalars(sa.select(SourceImage.sha256).where(SourceImage.subject_id == subject_id)))
        vectors = list(session.scalars(sa.select(Template.vector).where(Template.subject_id == subject_id)))
    assert shas and vectors
    assert any((tmp_path / "index").rglob("*.npy")), "the saved index should exist before the deletion"
    # The saved index keeps float16 copies: look for those bytes too.
    vectors += [np.frombuffer(v, dtype="<f4").astype("<f2").tobytes() for v in vectors]
    with pytest.raises(BadInputError, match="reason is required"):
        app.galleries.delete_subject(people[Role.ADMINISTRATOR], "custody", team["yao"], " ")
    result = app.galleries.delete_subject(people[Role.ADMINISTRATOR], "custody", team["yao"], "acquitted")
    assert result["templates"] == len(vectors) // 2
    with app.runtime.db.read() as session:
        for table, column in (
            (Subject, Subject.id),
            (SourceImage, SourceImage.subject_id),
            (Template, Template.subject_id),
        ):
            assert session.scalar(sa.select(sa.func.count()).select_from(table).where(column == subject_id)) == 0
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(SourceImage).where(SourceImage.sha256.in_(shas))) == 0
        )
    # The data directory (images, SQLite database and its WAL) holds no trace of the images or vectors.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert not any(sha in path.name for sha in shas), path
            blob = path.read_bytes()
            assert not any(v in blob for v in vectors), f"a deleted template's bytes remain in {path}"
    assert _search(app, people, photo)[0].subject != team["yao"]


def test_unknown_gallery_and_subject_are_clear_errors(database_url, tmp_path, engine, team, sample_paths):
    app, people, _ = _import(database_url, tmp_path, team)
    nope = SearchRequest(gallery="nope", reason="test")
    with pytest.raises(NotFoundError, match="no gallery named"):
        _search(app, people, sample_paths["yaoming"].read_bytes(), nope)
    with pytest.raises(NotFoundError, match="no subject"):
        app.galleries.delete_subject(people[Role.ADMINISTRATOR], "custody", "nobody", "test")


def _count_images(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text("SELECT count(*) FROM source_images"))
    except sa.exc.OperationalError:
        return 0
    except sa.exc.ProgrammingError:
        return 0
    finally:
        engine.dispose()


def test_import_killed_midway_resumes_with_every_image_enrolled_once(database_url, tmp_path, sample_paths):
    """kill -9 an import in the middle, rerun it: every image is recorded exactly once."""
    team = Image.open(sample_paths["players"]).convert("RGB")
    source = tmp_path / "incoming"
    rng = np.random.default_rng(3)
    n_subjects, per_subject = 20, 8  # enough that the import is still running when its first batch is stored
    for s in range(n_subjects):
        folder = source / f"S{s:03d}"
        folder.mkdir(parents=True)
        for k in range(per_subject):
            x, y = int(rng.integers(0, 1000)), int(rng.integers(0, 560))
            team.crop((x, y, x + 220, y + 220)).save(folder / f"{k}.jpg", quality=90)
    total = n_subjects * per_subject
    home = tmp_path / "home"
    env = {**os.environ, "OPENFR_HOME": str(home), "OPENFR_DATABASE_URL": database_url}
    first = openfr("user", "create", "admin", "--role", "admin", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert first.returncode == 0, first.stderr
    cli_login(env, "admin")
    cmd = [sys.executable, "-m", "openfr", "gallery", "import", "crash", str(source), "--json"]
    cmd += ["--create", "--purpose", "crash test"]  # the rerun finds the gallery the first run made
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 240
    while _count_images(database_url) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the import finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: the CLI and its workers
    proc.wait()
    partial = _count_images(database_url)
    assert 0 < partial < total
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["already_enrolled"] == partial
    assert report["enrolled"] + report["rejected"] == total - partial
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT subject_id, sha256 FROM source_images")).all()
        templates = connection.scalar(sa.text("SELECT count(*) FROM templates"))
        enrolled = connection.scalar(sa.text("SELECT count(*) FROM source_images WHERE status = 'enrolled'"))
    engine.dispose()
    assert len(rows) == len(set(rows)) == total
    assert templates == enrolled
    enrolled_shas = {
        sha for (sha,) in _rows(database_url, "SELECT sha256 FROM source_images WHERE status = 'enrolled'")
    }
    stored = [p for p in (home / "images").rglob("*") if p.is_file()]
    assert {p.stem for p in stored} == enrolled_shas  # one file per distinct enrolled image, no partial files


def _rows(url: str, query: str) -> list:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(query)).all()
    engine.dispose()
    return rows


def test_every_search_is_recorded_without_the_probe(database_url, tmp_path, engine, team, sample_paths):
    app, people, _ = _import(database_url, tmp_path, team)
    candidates = _search(app, people, sample_paths["yaoming"].read_bytes())
    with app.runtime.db.read() as session:
        records = session.scalars(sa.select(SearchRecord)).all()
        assert len(records) == 1
        record = records[0]
        assert (record.actor, record.reason, record.crime_ref, record.mode) == (
            "investigator",
            "test of 1:N search",
            "TEST/1",
            "RFR",
        )
        assert [c["subject"] for c in record.candidates] == [c.subject for c in candidates]
        assert record.probe_quality["usable"] is True and record.at is not None
    with pytest.raises(BadInputError, match="needs a reason"):  # on every installation, from every door
        _search(app, people, sample_paths["yaoming"].read_bytes(), SearchRequest(gallery="custody", reason=" "))


@pytest.mark.parametrize("large_index", ["binary", "hnsw"])
def test_large_gallery_index_is_saved_and_reused(tmp_path, engine, team, samples, large_index):
    """Above exact_max_size the embedded store searches a saved, memory-mapped index; a new process (here: a
    new searcher) opens it instead of rebuilding, and a deletion removes it."""
    url = f"sqlite:///{tmp_path / 'openfr.db'}"
    gallery = {"exact_max_size": 0, "large_index": large_index, "rerank": 8}
    app, people, _ = _import(url, tmp_path, team, gallery=gallery)
    settings = Settings(home=tmp_path, database_url=url, gallery=gallery)
    probe = engine.probe(samples["yaoming"]).embedding

    def search_in_a_new_process():
        with app.runtime.db.read() as session:
            return GallerySearcher(settings, tmp_path).rank(
                session, repository.get_gallery(session, "custody"), probe, 3
            )

    first = search_in_a_new_process()
    saved = sorted(p.name for p in (tmp_path / "index").rglob("*") if p.is_file())
    assert "stamp.json" in saved and len(saved) >= 4
    again = search_in_a_new_process()
    assert first == again and first[0].subject == team["yao"]
    app.galleries.delete_subject(people[Role.ADMINISTRATOR], "custody", team["yao"], "test")
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").rglob("*.npy"))
