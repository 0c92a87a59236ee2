"""Each server start is on record (issue 21, finding 12): one audit event by `system` with a SHA-256 digest of
the effective settings (never a key or a password, in the digest or anywhere in the event), the safety-relevant
values in the clear, and, when the research-licence override is what lets a research-licence pack run on an
operational installation, an event that says so. Before issue 21 a start left no event at all."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from actors import make_app, staff
from openfr.errors import PermissionDeniedError
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.services.server_start import public_settings, settings_digest
from openfr.settings import LiveSettings, Settings

AUDIT_KEY, SECRETS_KEY = "audit-key-that-must-stay-secret", "secrets-key-that-must-stay-secret"
DB_PASSWORD = "db-password-that-must-stay-secret"


def _starts(app) -> list[dict]:
    with app.runtime.db.read() as session:
        return audit.events(session, action="server.start")


def _started(tmp_path, **settings) -> dict:
    app = make_app(tmp_path / "home", **settings)
    app.start_up()
    (event,) = _starts(app)
    app.close()
    return event


def test_a_start_records_the_digest_and_the_safety_values_as_system(tmp_path):
    event = _started(tmp_path)
    assert (event["actor"], event["resource"], event["reason"]) == ("system", "settings", "server started")
    details = event["details"]
    assert details == {
        "settings_sha256": details["settings_sha256"],
        "operational": False,
        "model_pack": "buffalo_s",
        "model_licence": "research",
        "model_licence_allowed": True,
        "allow_research_licence": False,
        "research_licence_override_in_effect": False,
        "camera_networks_set": False,
    }
    assert len(details["settings_sha256"]) == 64 and int(details["settings_sha256"], 16) >= 0


def test_the_research_licence_override_that_lets_a_research_pack_run_operationally_is_explicit(tmp_path):
    event = _started(
        tmp_path, operational=True, allow_research_licence=True, live=LiveSettings(camera_networks=["10.20.0.0/16"])
    )
    details = event["details"]
    assert details["operational"] and details["research_licence_override_in_effect"] is True
    assert details["model_licence"] == "research" and details["model_licence_allowed"] is True
    assert details["camera_networks_set"] is True
    assert "research-licence override" in event["reason"] and "operational installation" in event["reason"]


@pytest.mark.parametrize(
    ("settings", "in_effect", "allowed"),
    [
        ({"operational": True}, False, False),  # refused: the pack will not load, and the event says so
        ({"operational": False, "allow_research_licence": True}, False, True),  # not operational: not needed
        ({"operational": True, "allow_research_licence": True, "model_pack": "dlib"}, False, True),  # open licence
    ],
)
def test_the_override_is_in_effect_only_where_it_is_what_allows_the_pack(tmp_path, settings, in_effect, allowed):
    details = _started(tmp_path, **settings)["details"]
    assert details["research_licence_override_in_effect"] is in_effect
    assert details["model_licence_allowed"] is allowed
    assert details["allow_research_licence"] is bool(settings.get("allow_research_licence"))


def test_a_pack_that_cannot_be_read_is_recorded_as_such_and_the_server_still_starts(tmp_path):
    details = _started(tmp_path, model_pack="no-such-pack")["details"]
    assert details["model_pack"] == "no-such-pack" and details["model_licence"].startswith("unknown")
    assert details["model_licence_allowed"] is False and details["research_licence_override_in_effect"] is False


def test_no_secret_reaches_the_event_or_the_digest(tmp_path):
    event = _started(tmp_path, audit_key=SecretStr(AUDIT_KEY), secrets_key=SecretStr(SECRETS_KEY))
    text = json.dumps(event)
    assert AUDIT_KEY not in text and SECRETS_KEY not in text
    base = {"home": tmp_path, "database_url": f"postgresql+psycopg://openfr:{DB_PASSWORD}@db.example/openfr"}
    plain = Settings(**base)
    keyed = Settings(**base, audit_key=SecretStr(AUDIT_KEY), secrets_key=SecretStr(SECRETS_KEY))
    other_password = Settings(**{**base, "database_url": base["database_url"].replace(DB_PASSWORD, "another-one")})
    public = json.dumps(public_settings(keyed))
    assert AUDIT_KEY not in public and SECRETS_KEY not in public and DB_PASSWORD not in public
    assert "audit_key" not in public and "secrets_key" not in public
    assert "db.example" in public  # where the database is stays part of the configuration
    in_query = Settings(
        **{**base, "database_url": f"postgresql+psycopg://db.example/o?sslmode=require&password={DB_PASSWORD}"}
    )
    assert public_settings(in_query)["database_url"] == "postgresql+psycopg://db.example/o?sslmode=require"
    # Secrets do not move the digest; a safety setting does.
    assert settings_digest(plain) == settings_digest(keyed) == settings_digest(other_password)
    assert settings_digest(plain) != settings_digest(Settings(**base, operational=True))
    assert settings_digest(plain) != settings_digest(Settings(**{**base, "database_url": base["database_url"] + "2"}))


def test_each_start_is_one_event_and_only_openfr_itself_records_one(tmp_path):
    app = make_app(tmp_path / "home")
    app.start_up()
    app.start_up()
    first, second = _starts(app)
    assert first["details"]["settings_sha256"] == second["details"]["settings_sha256"]
    investigator = staff(app)[Role.INVESTIGATOR]
    with pytest.raises(PermissionDeniedError):
        app.server_start.record(investigator)
    assert len(_starts(app)) == 2
    app.close()
