"""What a server puts on record each time it starts: one audit event, by `system`, holding a SHA-256 digest of
the effective settings and, in the clear, the few values that decide what the installation may do.

The digest lets an auditor tell whether the configuration changed between two starts without the trail
holding it; secrets never enter it (every `SecretStr` setting, such as the audit and stored-secrets keys, is
left out, and the database URL is reduced to where it points, without its password). In the clear: whether
the installation is operational, its model pack and that pack's licence class, whether the research-licence
override is set and whether it is what lets a research-licence pack run on this operational installation
(then the event's reason says so), and whether camera networks are set.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import get_args

from pydantic import BaseModel, SecretStr
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from openfr.engine.packs import get_pack
from openfr.engine.packs.base import RESEARCH, licence_allows
from openfr.errors import ConfigurationError, PermissionDeniedError
from openfr.governance import audit, events
from openfr.services.principal import Principal
from openfr.settings import Settings
from openfr.store import Database

_SECRET_WORDS = ("pass", "secret", "key", "token")  # database URL query parameters left out


def settings_digest(settings: Settings) -> str:
    """SHA-256 of the effective settings without their secrets (canonical JSON)."""
    canonical = json.dumps(public_settings(settings), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def public_settings(settings: Settings) -> dict:
    """The settings as JSON, without any secret: `SecretStr` fields left out, the database URL without its
    password or any secret-looking query parameter."""
    data = settings.model_dump(mode="json", exclude=_secret_fields(settings))
    if data.get("database_url"):
        data["database_url"] = _without_password(data["database_url"])
    return data


class ServerStartService:
    def __init__(self, db: Callable[[], Database], settings: Settings, pack_id: str | None):
        self.db, self.settings, self.pack_id = db, settings, pack_id

    def record(self, principal: Principal) -> dict:
        """The start-up event (only openfr itself records its own start); returns its details."""
        if not principal.is_system:
            raise PermissionDeniedError("only openfr itself records a server's start; nothing was changed")
        settings = self.settings
        try:
            card = get_pack(settings, self.pack_id).card
        except ConfigurationError:  # an unknown pack or a broken manifest: searches will say so, in words
            card = None
        model = card.id if card else (self.pack_id or settings.model_pack)
        research = card is not None and card.licence_class == RESEARCH
        override_in_effect = settings.operational and research and settings.allow_research_licence
        event = events.ServerStart(
            settings_sha256=settings_digest(settings),
            operational=settings.operational,
            model_pack=model,
            model_licence=card.licence_class if card else "unknown (the pack cannot be read)",
            model_licence_allowed=licence_allows(card, settings) if card else False,
            allow_research_licence=settings.allow_research_licence,
            research_licence_override_in_effect=override_in_effect,
            camera_networks_set=bool(settings.live.camera_networks),
        )
        reason = "server started"
        if override_in_effect:
            reason += (
                f"; the research-licence override (allow_research_licence) is what lets pack '{model}', "
                "licensed for non-commercial research only, run on this operational installation"
            )
        with self.db().transaction() as session:
            audit.record(session, principal.username, event, "settings", reason)
        return event.details()


def _secret_fields(model: BaseModel) -> dict:
    """pydantic's `exclude` for every SecretStr field, at any depth."""
    exclude: dict = {}
    for name, field in type(model).model_fields.items():
        if SecretStr in (field.annotation, *get_args(field.annotation)):
            exclude[name] = True
        elif isinstance(value := getattr(model, name), BaseModel) and (inner := _secret_fields(value)):
            exclude[name] = inner
    return exclude


def _without_password(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:  # not a URL SQLAlchemy can read: nothing of it is kept but that it was set
        return "(unreadable)"
    query = {k: v for k, v in parsed.query.items() if not any(word in k.lower() for word in _SECRET_WORDS)}
    kept = URL.create(parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database, query)
    return kept.render_as_string(hide_password=False)
