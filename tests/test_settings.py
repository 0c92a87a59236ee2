from pathlib import Path

import pytest
from pydantic import ValidationError

from openfr.errors import ConfigurationError
from openfr.settings import Settings, iter_fields
from openfr.settings.docs import settings_reference

REPO = Path(__file__).resolve().parents[1]


def test_every_setting_is_titled_and_described():
    undocumented = [env for env, info in iter_fields(Settings) if not info.title or not info.description]
    assert undocumented == []


def test_configuration_doc_is_current():
    doc = (REPO / "docs" / "configuration.md").read_text()
    assert doc == settings_reference(), "regenerate: openfr config docs > docs/configuration.md"
    for env, _ in iter_fields(Settings):
        assert f"`{env}`" in doc


def test_environment_overrides_nested_settings(monkeypatch):
    monkeypatch.setenv("OPENFR_DETECTION__MIN_FACE_PX", "32")
    monkeypatch.setenv("OPENFR_OPERATIONAL", "true")
    settings = Settings()
    assert settings.detection.min_face_px == 32
    assert settings.operational is True


def test_unknown_and_invalid_settings_are_refused(monkeypatch):
    with pytest.raises(ValidationError):
        Settings(no_such_setting=1)
    monkeypatch.setenv("OPENFR_DETECTION__SCORE_THRESHOLD", "1.5")
    with pytest.raises(ValidationError):
        Settings()


def test_misspelt_environment_variable_is_refused(monkeypatch):
    monkeypatch.setenv("OPENFR_OPERATIONL", "true")  # a typo must not silently leave the safeguard off
    with pytest.raises(ConfigurationError, match="OPENFR_OPERATIONL"):
        Settings.from_environment()
    monkeypatch.delenv("OPENFR_OPERATIONL")
    monkeypatch.setenv("OPENFR_DETECTION", '{"min_face_px": 40}')  # a whole section as JSON is fine
    monkeypatch.setenv("UNRELATED_VARIABLE", "x")
    assert Settings.from_environment().detection.min_face_px == 40
