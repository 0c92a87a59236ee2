"""The root of the settings tree: `Settings`, read from `OPENFR_*` environment variables.

It holds what concerns the whole installation (data directory, database, model pack and its licence, the
audit and secrets keys, the match threshold) and one section per subsystem, each defined in its own module
(engine, gallery, live, web, governance). The order of the fields here is the order of the reference in
docs/configuration.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from openfr.settings.engine import DetectionSettings, EngineSettings, QualitySettings
from openfr.settings.gallery import GallerySettings, SearchSettings
from openfr.settings.governance import AuditSettings, RetentionSettings
from openfr.settings.live import LiveSettings
from openfr.settings.section import ENV_PREFIX, iter_fields
from openfr.settings.web import CliSettings, WebSettings


class Settings(BaseSettings):
    """openfr's configuration, read from `OPENFR_*` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    home: Path = Field(
        Path("openfr-data"),
        title="Data directory",
        description="Where openfr keeps its database, galleries and outputs (relative paths are from the cwd).",
    )
    database_url: str | None = Field(
        None,
        title="Database URL",
        description=(
            "SQLAlchemy URL of the identity store. Unset: SQLite (WAL mode) at $OPENFR_HOME/openfr.db, with an "
            "in-process vector index. postgresql+psycopg://... uses PostgreSQL with pgvector (HNSW on halfvec), "
            "which keeps metadata and vectors in one transaction for multi-server deployments."
        ),
    )
    model_pack: str = Field(
        "buffalo_s",
        title="Model pack",
        description=(
            "Which registered pack detects and embeds faces: buffalo_s (default, research licence), dlib "
            "(public domain) or onnx-dir (a folder with a manifest, see model_dir). `openfr models` lists them."
        ),
    )
    model_dir: Path | None = Field(
        None,
        title="Model folder for onnx-dir",
        description="Folder holding `openfr-pack.json` and its ONNX files; used when model_pack is onnx-dir.",
    )
    operational: bool = Field(
        False,
        title="Operational installation",
        description=(
            "Set on installations used for real policing. Research-licence packs (buffalo_s) are then refused "
            "unless allow_research_licence is also set, so licensing is a decision someone made, on record."
        ),
    )
    allow_research_licence: bool = Field(
        False,
        title="Allow research-licence packs when operational",
        description="Explicit override for operational installations; ignored otherwise.",
    )
    audit_key: SecretStr | None = Field(
        None,
        title="Audit seal key",
        description=(
            "Key (at least 16 characters) that seals every audit event and checkpoint, e.g. injected from a KMS "
            "or secrets manager. Unset: a random key in $OPENFR_HOME/keys/audit.key (mode 0600), made only for a "
            "store with no sealed events and no checkpoints. Once the trail is sealed, openfr refuses to start "
            "without the key that sealed it: back it up. Keep it away from the database's administrators: with "
            "the key, history can be rewritten."
        ),
    )
    secrets_key: SecretStr | None = Field(
        None,
        title="Stored-secrets key",
        description=(
            "Key (at least 16 characters) that encrypts second-factor (TOTP) secrets in the database, e.g. from "
            "a KMS. Unset: a random key in $OPENFR_HOME/keys/secrets.key (mode 0600), made on first use. A copy "
            "of the database without it holds no usable second factor; lose it and second factors must be set "
            "up again (passwords are unaffected)."
        ),
    )
    audit_checkpoint_file: Path | None = Field(
        None,
        title="Audit checkpoint file",
        description=(
            "Where the sealed head of the audit trail is appended after every change (default "
            "$OPENFR_HOME/keys/audit-checkpoints.jsonl). Put it on another disk or a write-once mount, or copy "
            "it off the machine: it is what shows that the newest events were deleted or the table emptied."
        ),
    )
    match_threshold: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        allow_inf_nan=False,
        title="Match threshold (cosine), raised above the calibrated one",
        description=(
            "Score at or above which `compare` reports a match, and the default threshold of new deployments. "
            "Unset uses the pack's threshold calibrated on LFW View 1 DevTrain (see `openfr models`), which is "
            "also the floor: a lower value is refused, here and from every door. Higher gives fewer false "
            "matches and misses more true ones; lower thresholds raise false matches, which published studies "
            "show fall unevenly on Black and female faces."
        ),
    )
    detection: DetectionSettings = Field(
        default_factory=DetectionSettings, title="Detection", description="Face detection settings."
    )
    quality: QualitySettings = Field(
        default_factory=QualitySettings,
        title="Quality gate",
        description="When a face is fit to search with.",
    )
    engine: EngineSettings = Field(
        default_factory=EngineSettings, title="Engine", description="Inference and image-loading settings."
    )
    gallery: GallerySettings = Field(
        default_factory=GallerySettings, title="Gallery search", description="How galleries are indexed and searched."
    )
    live: LiveSettings = Field(
        default_factory=LiveSettings, title="Live cameras", description="Camera workers of live deployments."
    )
    search: SearchSettings = Field(
        default_factory=SearchSettings, title="Searches", description="Retrospective and operator-initiated searches."
    )
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings, title="Retention", description="How long records are kept; purges."
    )
    cli: CliSettings = Field(
        default_factory=CliSettings, title="Command line", description="The `openfr` command's sign-in."
    )
    web: WebSettings = Field(
        default_factory=WebSettings, title="Console and API", description="The web console and the JSON API."
    )
    audit: AuditSettings = Field(
        default_factory=AuditSettings, title="Audit trail", description="Where the audit trail's seal is witnessed."
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home.expanduser().resolve() / 'openfr.db').as_posix()}"

    @classmethod
    def from_environment(cls) -> Settings:
        """Settings from the environment, refusing `OPENFR_*` variables that name no setting.

        pydantic-settings ignores unknown environment variables; for a safeguard such as
        OPENFR_OPERATIONAL a typo must not silently fall back to the default.
        """
        known = {env for env, _ in iter_fields(cls, leaves_only=False)}
        unknown = sorted(k for k in os.environ if k.upper().startswith(ENV_PREFIX) and k.upper() not in known)
        if unknown:
            from openfr.errors import ConfigurationError

            raise ConfigurationError(
                f"unknown setting(s) {', '.join(unknown)}: see docs/configuration.md or `openfr config docs`"
            )
        return cls()
