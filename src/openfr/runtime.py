"""Composition root: settings in, services out. Nothing else decides which engine, database or bus to use.

Here: the face engine, the identity store, gallery search, the event bus and the in-process deployment
runner. Services are created lazily so that a command that needs no model never loads one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from openfr.bus import InProcessBus
from openfr.engine.pipeline import FaceEngine, load_engine
from openfr.gallery.search import GallerySearcher
from openfr.settings import Settings
from openfr.store import Database, open_database

if TYPE_CHECKING:
    from openfr.live.manager import DeploymentManager


@dataclass
class Services:
    settings: Settings
    pack_id: str | None = None
    _engines: dict[str, FaceEngine] = field(default_factory=dict, repr=False)

    @cached_property
    def home(self) -> Path:
        home = self.settings.home.expanduser().resolve()
        home.mkdir(parents=True, exist_ok=True)
        return home

    @cached_property
    def db(self) -> Database:
        self.home  # noqa: B018 - the SQLite default lives in $OPENFR_HOME, which must exist first
        return open_database(self.settings.resolved_database_url())

    @cached_property
    def searcher(self) -> GallerySearcher:
        return GallerySearcher(self.db, self.settings, self.home)

    @cached_property
    def bus(self) -> InProcessBus:
        """Alerts and camera health, from the deployments running in this process to the console."""
        return InProcessBus()

    @cached_property
    def live(self) -> DeploymentManager:
        from openfr.live.manager import DeploymentManager

        return DeploymentManager(self, self.bus)

    @property
    def engine(self) -> FaceEngine:
        key = self.pack_id or self.settings.model_pack
        if key not in self._engines:
            self._engines[key] = load_engine(self.settings, key)
        return self._engines[key]


def boot(settings: Settings | None = None, *, pack_id: str | None = None) -> Services:
    return Services(settings or Settings.from_environment(), pack_id)
