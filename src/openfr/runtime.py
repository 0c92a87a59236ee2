"""Composition root of the infrastructure: settings in; the data folder, the database, face engines, gallery
search, the event bus and the camera supervisor out. Nothing else decides which engine, database or bus to
use. Parts are created lazily (a command that needs no model never loads one) and only once, even when
several request threads ask at the same moment.

The use cases that act on this infrastructure (with a principal, permissions, transactions and audit
events) are in `openfr.services`, which is built on top of a `Runtime`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from openfr.bus import InProcessBus
from openfr.engine.pipeline import FaceEngine, load_engine
from openfr.gallery.search import GallerySearcher
from openfr.governance import credentials, sealing
from openfr.governance.grants import ViewGrants
from openfr.governance.secretbox import SecretBox
from openfr.live import camera_secrets
from openfr.live.supervisor import CameraSupervisor
from openfr.settings import Settings
from openfr.store import Database, open_database


@dataclass
class Runtime:
    settings: Settings
    pack_id: str | None = None
    _engines: dict[str | None, FaceEngine] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @cached_property
    def home(self) -> Path:
        home = self.settings.home.expanduser().resolve()
        if not home.exists():
            home.mkdir(mode=0o700, parents=True)  # faces and names: the owner's alone
        return home

    @cached_property
    def db(self) -> Database:
        with self._lock:
            self.home  # noqa: B018 - the SQLite default lives in $OPENFR_HOME, which must exist first
            key = self.settings.audit_key.get_secret_value() if self.settings.audit_key else None
            db = open_database(self.settings.resolved_database_url())
            try:  # refuses to start with a missing or different audit key (governance/sealing.py)
                sealing.start(db, self.home, key, self.settings.audit_checkpoint_file, self.settings.audit.anchor)
                with db.transaction() as session:  # second factors and camera URLs stored before encryption existed
                    credentials.seal_plain_secrets(session, self.secret_box)
                    camera_secrets.seal_plain_cameras(session, self.secret_box)
            except BaseException:
                db.dispose()
                raise
            return db

    @cached_property
    def secret_box(self) -> SecretBox:
        """Encrypts second-factor secrets at rest, under a key kept outside the database."""
        key = self.settings.secrets_key.get_secret_value() if self.settings.secrets_key else None
        return SecretBox.for_home(self.home, key)

    @cached_property
    def view_grants(self) -> ViewGrants:
        """Signed permission to fetch the faces a recorded page view showed (governance/grants.py)."""
        return ViewGrants(self.secret_box.derive(b"openfr view grants"))

    @cached_property
    def searcher(self) -> GallerySearcher:
        return GallerySearcher(self.settings, self.home, self.db.is_postgres)

    @cached_property
    def bus(self) -> InProcessBus:
        """Alerts and camera health, from the deployments running in this process to the console."""
        return InProcessBus()

    @cached_property
    def cameras(self) -> CameraSupervisor:
        return CameraSupervisor()

    @property
    def engine(self) -> FaceEngine:
        """The engine of this installation's (or the command's) model pack."""
        return self.engine_for(self.pack_id)

    def engine_for(self, pack_id: str | None) -> FaceEngine:
        key = pack_id or self.settings.model_pack
        with self._lock:
            if key not in self._engines:
                self._engines[key] = load_engine(self.settings, key)
            return self._engines[key]

    def close(self) -> None:
        """Stop the cameras running here (their counters are saved) and release the database."""
        if "cameras" in self.__dict__:
            self.cameras.shutdown()
        if "db" in self.__dict__:
            self.db.dispose()
