"""A throwaway installation for `openfr bench oifr`: an officer, a custody gallery approved for OIFR holding N
faces, and real probe photos whose mates are in it.

The gallery is stored exactly as a real one is (subjects, source images, float32 templates, the gallery's
generation moved on with each batch, an audit event per batch), so the server's own search path (index
built from the store on the first search, then kept) is what gets timed. Real faces are few; the rest of the
gallery is synthetic templates drawn from a Gaussian fitted to real embeddings (`gallery/synthetic.py`, as
`openfr bench search` does), written in bulk: a million enrolments through the engine would take hours and
time nothing the officer waits for. Each real person's mate photo is enrolled through the engine, so the
benchmark can check that the probe finds it among the synthetic faces.
"""

from __future__ import annotations

import csv
import io
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import func, select

from openfr.errors import BadInputError, EnrolmentRejectedError
from openfr.gallery import files, repository
from openfr.gallery.synthetic import FaceStatistics
from openfr.governance import audit, credentials, events
from openfr.governance.credentials import TokenKind
from openfr.runtime import Runtime
from openfr.services import Application
from openfr.services.galleries import EnrolFields
from openfr.settings import Settings
from openfr.store import SourceImage, Subject, Template
from openfr.store.models import utcnow

GALLERY = "bench-custody"
OFFICER = "bench-officer"
ADMIN = "bench-admin"
ACTOR = "openfr bench"
PHONE_PIXELS = 4032 * 3024  # a 12 MP phone photo
PAIRS = "deepface_pairs"  # real photos of a dozen public figures, with same-person pairs (../shared/data)


@dataclass
class Person:
    """Photos of one real person. `mirror`: only one photo, so the mate enrolled is its mirror image."""

    key: str
    photos: list[tuple[str, bytes]]
    mirror: bool = False


@dataclass
class Installation:
    home: Path
    password: str  # the accounts', for signing in; never printed
    settings: Settings  # the installation's own (its home, SQLite in it)
    persons: list[Person]
    probes: list[tuple[str, str, bytes]] = field(default_factory=list)  # (mate subject, photo name, 12 MP JPEG)
    mates: int = 0
    faces: int = 0  # templates in the gallery, counted in the store
    timings: dict[str, float] = field(default_factory=dict)


def people(data_root: Path) -> tuple[list[Person], str]:
    """Real people to search for: `deepface_pairs` grouped by its same-person pairs when present, else the
    sample photos inside the model wheel (the demo's), each mated with its own mirror image."""
    folder = data_root / PAIRS
    if (folder / "master.csv").is_file():
        groups = _same_person_groups(folder / "master.csv")
        found = [
            Person(f"person-{i}", [(name, (folder / name).read_bytes()) for name in names])
            for i, names in enumerate(groups, 1)
            if all((folder / name).is_file() for name in names)
        ]
        if found:
            return found, f"{sum(len(p.photos) for p in found)} photos of {len(found)} people from {PAIRS}"
    from openfr.engine.packs.base import verify
    from openfr.engine.packs.buffalo_s import SAMPLES

    wheel = [Person(k, [(f"{k}.jpg", verify(f.locate(), f.sha256).read_bytes())], True) for k, f in SAMPLES.items()]
    return wheel, "the model wheel's sample photos, each mated with its mirror image"


def _same_person_groups(pairs_csv: Path) -> list[list[str]]:
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    with pairs_csv.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Decision"] == "Yes":
                parent[root(row["file_x"])] = root(row["file_y"])
    groups: dict[str, list[str]] = {}
    for name in parent:
        groups.setdefault(root(name), []).append(name)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def phone_photo(data: bytes, pixels: int = PHONE_PIXELS, quality: int = 92) -> bytes:
    """The photo resized (up or down, proportions kept) to about `pixels`, as the JPEG a phone would send."""
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        scale = (pixels / (img.width * img.height)) ** 0.5
        resized = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    resized.save(out, "JPEG", quality=quality)
    return out.getvalue()


def build(
    settings: Settings, home: Path, size: int, stats: FaceStatistics, persons: list[Person], probes: int
) -> Installation:
    """Accounts, the OIFR gallery with the real mates enrolled and `size` faces in all, and `probes` phone
    photos (the people's other photos, taken in turn)."""
    settings = settings.model_copy(update={"home": home, "database_url": None, "audit_checkpoint_file": None})
    app = Application(Runtime(settings))
    try:
        started = time.perf_counter()
        password = _accounts(app)
        admin = app.accounts.sign_in(ADMIN, password, None, TokenKind.CLI).principal
        purpose = "Benchmark: custody images (synthetic, plus real public figures) searched from an officer's phone."
        app.galleries.create(admin, GALLERY, purpose, uses=["oifr"])
        installation = Installation(home, password, settings, persons)
        pool: list[list[tuple[str, str, bytes]]] = []
        for i, person in enumerate(persons, 1):
            subject = f"MATE-{i}"
            rest = _enrol_mate(app, admin, subject, person)
            if rest is not None:
                installation.mates += 1
                pool.append([(subject, name, data) for name, data in rest])
        if not installation.mates:
            raise EnrolmentRejectedError("none of the real probe photos' mates could be enrolled")
        if size < installation.mates:
            raise BadInputError(f"--size must be at least {installation.mates} (the real mates)")
        installation.timings["enrol_mates_s"] = time.perf_counter() - started
        generate_s, insert_s = load_synthetic(app, size - installation.mates, stats)
        installation.timings |= {"generate_s": generate_s, "insert_s": insert_s}
        installation.probes = [(s, n, phone_photo(d)) for s, n, d in _in_turn(pool, probes)]
        with app.runtime.db.read() as session:  # counted, not assumed
            gallery = repository.get_gallery(session, GALLERY)
            installation.faces = session.scalar(select(func.count()).where(Template.gallery_id == gallery.id)) or 0
        return installation
    finally:
        app.close()


def _accounts(app: Application) -> str:
    """An administrator (to make the gallery) and an officer, provisioned with installation access as the demo
    does (services/demo.py): a throwaway installation's accounts skip dual control and the first password
    change. Recorded as the benchmark's doing."""
    password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    with app.runtime.db.transaction() as session:
        for username, role in ((ADMIN, "administrator"), (OFFICER, "officer")):
            credentials.create_user(session, username, role, password, created_by=ACTOR, must_change=False)
            audit.record(session, ACTOR, events.UserCreate(role=role), f"user:{username}")
    return password


def enrol_one_more(installation: Installation) -> float:
    """One more real face enrolled through the engine, as a custody suite would while officers search: the
    gallery's generation moves on, so the server's next search cannot use the index it holds. A mirror image
    of one of the real photos, as a new subject. Returns the seconds the enrolment took."""
    app = Application(Runtime(installation.settings))
    try:
        admin = app.accounts.sign_in(ADMIN, installation.password, None, TokenKind.CLI).principal
        started = time.perf_counter()
        for person in installation.persons:
            for name, data in person.photos:
                fields = EnrolFields(GALLERY, "LATE-1", "openfr bench: real photo", display_name=person.key)
                try:
                    app.galleries.enrol_upload(admin, fields, filename=f"{Path(name).stem}.png", data=_mirrored(data))
                except EnrolmentRejectedError:
                    continue
                return time.perf_counter() - started
        raise EnrolmentRejectedError("no real photo could be enrolled as one more face")
    finally:
        app.close()


def _enrol_mate(app: Application, admin, subject: str, person: Person) -> list[tuple[str, bytes]] | None:
    """Enrol the first of the person's photos that passes the quality gate (its mirror image for a single
    photo); the probes are then the person's other photos. None if no photo could be enrolled."""
    for i, (name, data) in enumerate(person.photos):
        mate = _mirrored(data) if person.mirror else data
        fields = EnrolFields(GALLERY, subject, "openfr bench: real photo", display_name=person.key)
        try:
            app.galleries.enrol_upload(admin, fields, filename=f"{Path(name).stem}.png" if person.mirror else name,
                                       data=mate)  # fmt: skip
        except EnrolmentRejectedError:
            continue
        return person.photos if person.mirror else person.photos[:i] + person.photos[i + 1 :]
    return None


def _mirrored(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        img.convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(out, "PNG")
    return out.getvalue()


def _in_turn(pool: list[list[tuple[str, str, bytes]]], count: int) -> list[tuple[str, str, bytes]]:
    """`count` photos: every photo once, one person after another (so no one face dominates the timings),
    then the same order again as often as needed."""
    order = [photos[depth] for depth in range(max(map(len, pool))) for photos in pool if depth < len(photos)]
    return [order[i % len(order)] for i in range(count)]


def load_synthetic(app: Application, count: int, stats: FaceStatistics, chunk: int = 50_000, seed: int = 16):
    """Write `count` synthetic faces into the gallery in batches, as an import does (each batch: subjects,
    source images and templates, the gallery's generation moved on and an audit event, in one transaction),
    but with bulk INSERTs of the same rows the ORM would write (SQLite; 2x faster than ORM bulk inserts).
    Every synthetic subject's source image is one stored placeholder (the store is content-addressed, so
    they share the file). Returns (seconds generating, seconds writing)."""
    rt = app.runtime
    placeholder = _placeholder()
    sha = files.sha256_bytes(placeholder)
    stored = files.store(rt.home, placeholder, sha, ".jpg")
    rng = np.random.default_rng(seed)
    generate_s = insert_s = 0.0
    with rt.db.read() as session:
        first = [(session.scalar(select(func.max(t.id))) or 0) + 1 for t in (Subject, SourceImage, Template)]
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        began = time.perf_counter()
        vectors = stats.sample(n, rng).astype("<f4")
        generate_s += time.perf_counter() - began
        began = time.perf_counter()
        with rt.db.transaction() as session:
            gallery = repository.get_gallery(session, GALLERY, for_update=True)
            s0, i0, t0 = (f + start for f in first)
            at = _as_stored(session, utcnow())
            rows = range(n)
            _insert(session, Subject, ("id", "gallery_id", "external_id", "display_name", "source", "created_at"), [
                (s0 + j, gallery.id, f"SYN-{start + j + 1:08d}", f"Synthetic person {start + j + 1}",
                 "synthetic (openfr bench)", at) for j in rows
            ])  # fmt: skip
            columns = ("id", "subject_id", "sha256", "stored_path", "original_name", "provenance", "status", "width",
                       "height", "imported_at")  # fmt: skip
            _insert(session, SourceImage, columns, [
                (i0 + j, s0 + j, sha, stored, "synthetic.jpg", "synthetic template (openfr bench)", "enrolled", 112,
                 112, at) for j in rows
            ])  # fmt: skip
            columns = ("id", "image_id", "subject_id", "gallery_id", "space", "dim", "vector", "created_at")
            _insert(session, Template, columns, [
                (t0 + j, i0 + j, s0 + j, gallery.id, gallery.space, vectors.shape[1], vectors[j].tobytes(), at)
                for j in rows
            ])  # fmt: skip
            repository.touch(gallery)
            audit.record(
                session, ACTOR, events.Enrol(enrolled=n, rejected=0), f"gallery:{GALLERY}", "synthetic templates"
            )
        insert_s += time.perf_counter() - began
    return generate_s, insert_s


def _as_stored(session, when) -> str:
    """The timestamp as the ORM writes it (SQLite keeps datetimes as text)."""
    dialect = session.get_bind().dialect
    return Template.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)(when)


def _insert(session, model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    table = model.__table__
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    session.connection().exec_driver_sql(sql, rows)


def _placeholder() -> bytes:
    """A plain grey square: what a synthetic face's candidate thumbnail shows (there is no photo)."""
    out = io.BytesIO()
    Image.new("RGB", (112, 112), (128, 128, 128)).save(out, "JPEG", quality=80)
    return out.getvalue()
