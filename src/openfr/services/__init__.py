"""The application services: every use case of openfr, with its rules, in one place.

Each use case takes the acting `Principal` (an authenticated account, or openfr itself for scheduled
work), checks its permission, owns its transaction and writes its audit event in it. The CLI, the JSON API
and the console are thin adapters over an `Application`: they parse, call one method and render.

    app = boot()                                   # settings from the environment
    me = app.accounts.sign_in("alice", pw, None, TokenKind.CLI).principal
    app.deployments.plan(me, DeploymentPlan(...))
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openfr.engine.pipeline import FaceEngine
from openfr.gallery.search import GallerySearcher
from openfr.governance.grants import ViewGrants
from openfr.governance.secretbox import SecretBox
from openfr.runtime import Runtime
from openfr.services.accounts import AccountService
from openfr.services.alerts import AlertService
from openfr.services.audit_trail import AuditService
from openfr.services.deployments import DeploymentService
from openfr.services.galleries import GalleryService
from openfr.services.oifr import OifrService
from openfr.services.principal import SYSTEM, Principal
from openfr.services.reports import ReportService
from openfr.services.retention import RetentionService
from openfr.services.searches import ProbeSearch, SearchService
from openfr.services.server_start import ServerStartService
from openfr.services.staff import StaffService
from openfr.services.subject_access import SubjectAccessService
from openfr.settings import Settings
from openfr.store import Database

__all__ = ["SYSTEM", "Application", "Principal", "boot"]


@dataclass
class Application:
    runtime: Runtime
    accounts: AccountService = field(init=False)
    staff: StaffService = field(init=False)
    audit: AuditService = field(init=False)
    galleries: GalleryService = field(init=False)
    search: SearchService = field(init=False)
    oifr: OifrService = field(init=False)
    deployments: DeploymentService = field(init=False)
    alerts: AlertService = field(init=False)
    reports: ReportService = field(init=False)
    retention: RetentionService = field(init=False)
    subject_access: SubjectAccessService = field(init=False)
    server_start: ServerStartService = field(init=False)

    def __post_init__(self) -> None:
        """Each service gets what it declares from the runtime: values as they are (settings, the data folder,
        the pack, the camera supervisor and the bus, all cheap), and the parts built at their first use as
        the runtime's accessors (the database, engines, the searcher, the secret box and view grants), so
        building the application opens or loads nothing."""
        rt = self.runtime
        settings, home, pack_id, cameras, bus = rt.settings, rt.home, rt.pack_id, rt.cameras, rt.bus

        def db() -> Database:
            return rt.db

        def engine() -> FaceEngine:
            return rt.engine

        def searcher() -> GallerySearcher:
            return rt.searcher

        def secret_box() -> SecretBox:
            return rt.secret_box

        def view_grants() -> ViewGrants:
            return rt.view_grants

        self.accounts = AccountService(db, settings, secret_box)
        self.staff, self.audit = StaffService(db, secret_box), AuditService(db)
        self.galleries = GalleryService(db, settings, home, pack_id, rt.engine_for, cameras, view_grants)
        probes = ProbeSearch(db, settings, engine, searcher, view_grants)  # every 1:N photo search runs it
        self.search = SearchService(db, home, view_grants, probes)
        self.oifr = OifrService(db, probes)  # operator-initiated searches: the same search, with grounds
        self.deployments = DeploymentService(db, settings, home, engine, cameras, bus, secret_box, view_grants)
        self.alerts = AlertService(db, settings, home, cameras, bus, view_grants)
        self.reports = ReportService(db, engine, cameras)
        self.retention = RetentionService(db, settings, home, self.deployments)
        self.subject_access = SubjectAccessService(db, settings, home, engine, searcher, secret_box)
        self.server_start = ServerStartService(db, settings, pack_id)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def start_up(self) -> dict:
        """What a server does before it takes requests: its start is recorded (a digest of the effective
        settings, the safety-relevant ones in the clear), files left by a crash between writing and committing
        are removed, and deployments that were running are resumed (or recorded as interrupted)."""
        from openfr.logs import configure

        configure(self.runtime.home)
        self.server_start.record(SYSTEM)
        swept = {"images": self.galleries.sweep_orphan_images(), "crops": self.alerts.sweep_orphan_crops()}
        return {"orphans_removed": swept, **self.deployments.recover(SYSTEM)}

    def model_cards(self, principal: Principal) -> list[dict]:
        """Every registered pack: licence, training data, published accuracy, calibrated threshold."""
        from openfr.engine.packs import get_pack, pack_ids
        from openfr.governance.permissions import Permission
        from openfr.thresholds import identification_section

        principal.require(Permission.MODELS_READ)
        cards = []
        for pack_id in pack_ids():
            pack = get_pack(self.settings, pack_id)
            identification = identification_section(pack.card, self.settings.live.target_fpir)
            cards.append({**pack.card.as_dict(), "installed": pack.available()[0], "identification": identification})
        return cards

    def close(self) -> None:
        self.runtime.close()


def boot(settings: Settings | None = None, *, pack_id: str | None = None) -> Application:
    """Settings (from the environment unless given) -> infrastructure -> use cases."""
    return Application(Runtime(settings or Settings.from_environment(), pack_id))
