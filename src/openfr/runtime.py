"""Composition root: settings in, services out. Nothing else decides which engine, database or bus to use.

Only the face engine exists so far; the store, index, bus and audit trail join here as they are built.
Services are created lazily so that a command that needs no model never loads one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from openfr.engine.pipeline import FaceEngine, load_engine
from openfr.settings import Settings


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

    @property
    def engine(self) -> FaceEngine:
        key = self.pack_id or self.settings.model_pack
        if key not in self._engines:
            self._engines[key] = load_engine(self.settings, key)
        return self._engines[key]


def boot(settings: Settings | None = None, *, pack_id: str | None = None) -> Services:
    return Services(settings or Settings.from_environment(), pack_id)
