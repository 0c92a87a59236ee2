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
from openfr.services.searches import SearchService
from openfr.services.server_start import ServerStartService
from openfr.services.staff import StaffService
from openfr.services.subject_access import SubjectAccessService
from openfr.settings import Settings

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
        rt = self.runtime
        self.accounts, self.staff, self.audit = AccountService(rt), StaffService(rt), AuditService(rt)
        self.galleries, self.search = GalleryService(rt), SearchService(rt)
        self.oifr = OifrService(rt, self.search)  # operator-initiated searches: SearchService's, with grounds
        self.deployments, self.alerts = DeploymentService(rt), AlertService(rt)
        self.reports, self.retention = ReportService(rt), RetentionService(rt, self.deployments)
        self.subject_access, self.server_start = SubjectAccessService(rt), ServerStartService(rt)

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
