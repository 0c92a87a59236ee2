"""Uploads fuzzed at every door that takes one (API and console, enrolment and search): truncated and
corrupt images, decompression bombs, wrong types, empty and oversized files, random bytes. Each gets a
clear 4xx, no server path in the message, and nothing is kept: no subject, no image file, no search record."""

from __future__ import annotations

import io
import os
import random
import zipfile

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from actors import PASSWORD, console_sign_in, make_app, staff
from openfr.governance.credentials import TokenKind
from openfr.governance.permissions import Role
from openfr.services.galleries import EnrolFields
from openfr.settings import WebSettings
from openfr.store import SearchRecord, Subject

LIMIT_MB = 2.0  # the installation's upload limit in this test: "huge" is anything above it


def _png(width: int, height: int, mode: str = "1") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _claims(width: int, height: int) -> bytes:
    """A PNG whose header claims a vast image, followed by a few bytes of data."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def _payloads(photo: bytes) -> dict[str, bytes]:
    rng = random.Random(14)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("photo.jpg", photo)
    gif = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(gif, "GIF")
    return {
        "empty": b"",
        "truncated jpeg": photo[: len(photo) // 3],
        "jpeg header only": photo[:600],
        "text named .jpg": b"this is a shopping list, not a photograph\n" * 20,
        "zip archive": archive.getvalue(),
        "random bytes": rng.randbytes(50_000),
        "corrupt middle": photo[:2000] + rng.randbytes(4000) + photo[6000:],
        "bomb: 20000 x 20000 png": _png(20_000, 20_000),  # about 50 KB that would decode to 400 megapixels
        "bomb: header claims 10^10 pixels": _claims(100_000, 100_000),
        "no face (a grey gif)": gif.getvalue(),
        "huge: over the limit": photo + os.urandom(int(LIMIT_MB * 1024 * 1024)),
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample_paths):
    app = make_app(tmp_path_factory.mktemp("uploads"), web=WebSettings(upload_max_mb=LIMIT_MB))
    people = staff(app)
    photo = sample_paths["yaoming"].read_bytes()
    app.galleries.create(people[Role.ADMINISTRATOR], "custody", "test gallery")
    app.galleries.enrol_upload(
        people[Role.ADMINISTRATOR], EnrolFields("custody", "YAO-1", "test"), filename="y.jpg", data=photo
    )
    from openfr.web.app import create_app

    web = create_app(app)
    clients = {}
    for role in ("administrator", "investigator"):  # who enrols, who searches
        api = TestClient(web, base_url="https://testserver")
        token = app.accounts.sign_in(role, PASSWORD, None, TokenKind.API).token
        api.headers["Authorization"] = f"Bearer {token}"
        console = TestClient(web, base_url="https://testserver")
        console.headers["x-csrftoken"] = console_sign_in(console, role)
        clients[("api", role)], clients[("console", role)] = api, console
    yield app, clients, _payloads(photo)
    app.close()


def _kept(app) -> tuple:
    with app.runtime.db.read() as session:
        counts = tuple(session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Subject, SearchRecord))
    files = sorted(str(p) for p in app.runtime.home.rglob("*") if p.is_file() and p.suffix in {".jpg", ".png", ".npy"})
    return counts, files


DOORS = {
    "api enrol": ("api", "/api/galleries/custody/enrol", {"subject": "FUZZ-1", "source": "fuzz"}),
    "api search": ("api", "/api/search", {"gallery": "custody", "reason": "fuzz", "poor_probe_reason": "fuzz"}),
    "console enrol": ("console", "/enrol", {"gallery": "custody", "subject": "FUZZ-1", "source": "fuzz"}),
    "console search": ("console", "/search", {"gallery": "custody", "reason": "fuzz", "mode": "RFR"}),
}


@pytest.mark.parametrize("door", DOORS)
def test_every_bad_upload_is_a_clear_refusal_that_keeps_nothing(site, door):
    app, clients, payloads = site
    client_name, path, form = DOORS[door]
    client = clients[(client_name, "investigator" if path.endswith("search") else "administrator")]
    for kind, data in payloads.items():
        before = _kept(app)
        answer = client.post(path, data=form, files={"image": ("upload.jpg", data, "image/jpeg")})
        where = f"{door}, {kind}: {answer.status_code} {answer.text[:200]}"
        assert 400 <= answer.status_code < 500 and answer.status_code not in (401, 403), where
        expected = 413 if kind.startswith("huge") else None
        assert expected is None or answer.status_code == expected, where
        assert str(app.runtime.home) not in answer.text, where  # no server path in a refusal
        assert _kept(app) == before, f"something was kept: {where}"
