"""All of openfr's settings in one pydantic-settings tree, one module per subsystem.

Every field is titled and described (a test fails otherwise, and another fails if `docs/configuration.md`
is out of date), and unknown keys are refused (`extra="forbid"`, and `Settings.from_environment` for
`OPENFR_*` variables) so a misspelt variable is an error, not a silently ignored safeguard. Values come from
`OPENFR_*` environment variables; nested fields use a double underscore, e.g. `OPENFR_DETECTION__MIN_FACE_PX=32`.

- `base`: the `Section` base class, `ENV_PREFIX` and `iter_fields`
- `engine`: detection, the quality gate, inference
- `gallery`: gallery indexes and what searches list
- `live`: live cameras, alerting, deployment authorisation
- `web`: the command line's sign-in, the console and the JSON API
- `governance`: retention and the audit anchor
- `root`: `Settings`, the installation-wide settings and the sections put together
- `docs`: the Markdown reference (docs/configuration.md), imported only by `openfr config docs` and its test
"""

from openfr.settings.engine import DetectionSettings, EngineSettings, QualitySettings
from openfr.settings.gallery import GallerySettings, SearchSettings
from openfr.settings.governance import AuditSettings, RetentionSettings
from openfr.settings.live import LiveSettings
from openfr.settings.root import Settings
from openfr.settings.section import ENV_PREFIX, Section, iter_fields
from openfr.settings.web import CliSettings, WebSettings

__all__ = [
    "ENV_PREFIX",
    "AuditSettings",
    "CliSettings",
    "DetectionSettings",
    "EngineSettings",
    "GallerySettings",
    "LiveSettings",
    "QualitySettings",
    "RetentionSettings",
    "SearchSettings",
    "Section",
    "Settings",
    "WebSettings",
    "iter_fields",
]
