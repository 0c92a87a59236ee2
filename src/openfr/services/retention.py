"""Retention: what openfr records is kept only as long as the policy says, then erased, on record.

One purge (`RetentionService.purge`) closes deployments whose window has ended, erases watchlist snapshots
past their retention (images and templates; who was listed stays, without biometrics), deletes alerts and
their face crops past `retention.alert_days` unless their outcome is kept, and search records past
`retention.search_days`. Each kind of erasure is one audit event with its count. Rows go first, in one
transaction, then the files they named, then the freed database pages (SQLite overwrites deleted rows with
zeros and truncates its log), so no biometric remnant survives the purge.

`openfr serve` runs it every `retention.interval_minutes` as openfr itself (`Housekeeper`); `openfr purge`
runs it once as the signed-in account. openfr stores no case media: search photos are never written.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select

from openfr.governance import audit, events
from openfr.governance.permissions import Permission
from openfr.live.alerting import scene_path_for
from openfr.live.lifecycle import now_utc
from openfr.services.deployments import DeploymentService
from openfr.services.principal import SYSTEM, Principal
from openfr.services.refusals import UseCases, service
from openfr.settings import Settings
from openfr.store import Alert, SearchRecord

log = logging.getLogger(__name__)


@service
class RetentionService(UseCases):
    use_case_prefix = "retention"  # refusals name their use case "retention.<method>"

    settings: Settings
    home: Path
    deployments: DeploymentService  # their own purge

    def purge(self, principal: Principal) -> dict:
        """Everything past its retention, erased and recorded; returns what was done (counts and names)."""
        principal.require(Permission.RETENTION_RUN)
        done = self.deployments.purge(principal)  # windows ended, snapshots erased (with their own events)
        policy, now = self.settings.retention, now_utc()
        crops: list[Path] = []
        with self.db().transaction() as session:
            old = session.scalars(
                select(Alert)
                .where(Alert.created_at < now - timedelta(days=policy.alert_days))
                .where((Alert.outcome.is_(None)) | (Alert.outcome.not_in(policy.keep_outcomes)))
                .order_by(Alert.id)
                .with_for_update()
            ).all()
            for alert in old:
                if alert.crop_path:
                    crops.append(self.home / alert.crop_path)
                    crops.append(self.home / scene_path_for(alert.crop_path))  # its scene frame, if any
                session.delete(alert)
            if old:
                audit.record(
                    session,
                    principal.username,
                    events.AlertPurge(count=len(old), kept_outcomes=list(policy.keep_outcomes)),
                    "alerts",
                    f"older than {policy.alert_days:g} days",
                )
            searches = session.execute(
                delete(SearchRecord).where(SearchRecord.at < now - timedelta(days=policy.search_days))
            ).rowcount
            if searches:
                audit.record(
                    session,
                    principal.username,
                    events.SearchPurge(count=searches),
                    "searches",
                    f"older than {policy.search_days:g} days",
                )
        for path in crops:
            path.unlink(missing_ok=True)
        if crops or searches:
            self.db().purge_freed_pages()
        return {**done, "alerts_deleted": len(old), "searches_deleted": searches}


class Housekeeper:
    """The purge on a schedule inside a server, as openfr itself. A failed purge is logged and tried again
    at the next interval; it never stops the server."""

    def __init__(self, retention: RetentionService, interval_s: float):
        self.retention, self.interval_s = retention, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="housekeeper", daemon=True)
        self.runs = 0

    def start(self) -> Housekeeper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                result = self.retention.purge(SYSTEM)
                log.info("purge: %s", {k: (len(v) if isinstance(v, list) else v) for k, v in result.items()})
            except Exception:
                log.exception("scheduled purge failed; it runs again in %.0f s", self.interval_s)
            self.runs += 1
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
