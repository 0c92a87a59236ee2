from pathlib import Path

import pytest
from pydantic import ValidationError

from openfr.settings import Settings
from openfr.settings_doc import iter_fields, settings_reference

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


def test_unknown_key_in_dotenv_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("OPENFR_MATCH_THRESHOLDD=0.1\n")
    with pytest.raises(ValidationError):
        Settings()
