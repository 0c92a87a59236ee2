"""Live-deployment use cases: plan, close, purge, and read them with their statistics. Starting, running and
stopping the cameras are in runs.py; authorising, and what the authorising officer sees first, in
authorisation.py; statistics in deployment_statistics.py (the same service, split for size).

Close is recorded here and reaches the cameras wherever they run: in this process at once, in another at
its next lease renewal (`live.heartbeat_s`).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from openfr.errors import ConflictError, SafeguardMissingError
from openfr.gallery import repository
from openfr.governance import audit, events
from openfr.governance.permissions import Permission
from openfr.governance.uses import GalleryUse, check_gallery_use
from openfr.live import deployments
from openfr.live.camera_secrets import where
from openfr.live.deployments import DeploymentPlan, aware, now_utc
from openfr.live.setup import camera_source, require_camera_networks, video_files, video_folder
from openfr.runtime import Runtime
from openfr.services.authorisation import DeploymentAuthorisation
from openfr.services.deployment_statistics import DeploymentStatistics
from openfr.services.deployment_view import DeploymentView
from openfr.services.principal import Principal
from openfr.services.runs import DeploymentRuns
from openfr.store import Deployment
from openfr.store.live import CATEGORIES, NOTICES
from openfr.thresholds import expected_false_alerts, group_rates, live_floor


class DeploymentService(DeploymentRuns, DeploymentAuthorisation, DeploymentStatistics):
    use_case_prefix = "deployments"  # refusals name their use case "deployments.<method>"

    def __init__(self, runtime: Runtime):
        self.rt = runtime

    @property
    def floor(self) -> float:
        """The model's 1:1 threshold: nothing alerts below it, whatever the watchlist."""
        return self.rt.engine.card.threshold

    def live_floor(self, subjects: int) -> float:
        """The lowest threshold for a watchlist of `subjects` people (the target false-alert rate met for
        the worst group); an installation's own match_threshold may only raise it."""
        card = self.rt.engine.card
        return live_floor(card, subjects, self.rt.settings.live.target_fpir, at_least=self.rt.engine.threshold)

    def _subjects(self, session: Session, d: Deployment) -> int:
        if d.watchlist_size is not None:
            return d.watchlist_size
        return deployments.subjects_in_watchlist(session, d.source_gallery, d.categories, self.rt.engine.space)

    # -- reading --------------------------------------------------------------------------------------

    def list(self, principal: Principal, *, open_only: bool = False) -> list[DeploymentView]:
        principal.require(Permission.DEPLOYMENT_READ)
        with self.rt.db.read() as session:
            query = select(Deployment).order_by(Deployment.id.desc())
            if open_only:
                query = query.where(Deployment.state != "closed")
            return [self._view(session, d, detail=False) for d in session.scalars(query)]

    def get(self, principal: Principal, name: str) -> DeploymentView:
        principal.require(Permission.DEPLOYMENT_READ)
        with self.rt.db.read() as session:
            return self._view(session, deployments.get(session, name))

    def _view(self, session: Session, d: Deployment, *, detail: bool = True) -> DeploymentView:
        return DeploymentView(
            id=d.id,
            name=d.name,
            state=d.state,
            grounds=d.grounds,
            categories=list(d.categories),
            source_gallery=d.source_gallery,
            location=d.location,
            location_rationale=d.location_rationale,
            starts_at=aware(d.starts_at),
            ends_at=aware(d.ends_at),
            # Names and hosts for the authorising officer: never the URL's credentials or path.
            cameras=[{"name": c["name"], "where": where(c)} for c in d.cameras],
            threshold=d.threshold,
            consistent_shots=d.consistent_shots,
            public_notice=dict(d.public_notice),
            created_by=d.created_by,
            created_at=_aware(d.created_at),
            authorised_by=d.authorised_by,
            authorised_at=_aware(d.authorised_at),
            authorisation_note=d.authorisation_note,
            authorised_rank=d.authorised_rank,
            closed_at=_aware(d.closed_at),
            close_reason=d.close_reason,
            snapshot_erased_at=_aware(d.snapshot_erased_at),
            running=self.rt.cameras.is_running(d.id) or deployments.running(d, self.rt.settings.live.heartbeat_s),
            watchlist_size=len(d.entries) if detail else 0,
            run_error=self.rt.cameras.last_error(d.id),
            subjects=(subjects := self._subjects(session, d)),
            two_person=d.two_person,
            expected_false_alerts=expected_false_alerts(self.rt.engine.card, d.threshold, subjects),
            group_fmr=group_rates(self.rt.engine.card, d.threshold) if detail else None,
        )

    # -- planning and authorising -------------------------------------------------------------------------

    def planning_options(self, principal: Principal) -> dict:
        """What a plan may choose from: categories, kinds of notice, galleries, video files, the threshold
        floor and default, and the default window."""
        principal.require(Permission.DEPLOYMENT_CREATE)
        with self.rt.db.read() as session:
            # Only galleries approved as a live source can be chosen (plan refuses the others anyway).
            galleries = [g["name"] for g in repository.gallery_stats(session) if GalleryUse.LIVE in g["uses"]]
        return {
            "categories": CATEGORIES,
            "notice_kinds": NOTICES,
            "galleries": galleries,
            "videos": video_files(self.rt.settings, self.rt.home),
            "video_folder": video_folder(self.rt.settings, self.rt.home),
            "calibrated": self.floor,
            "default_threshold": self.rt.engine.threshold,
            "target_fpir": self.rt.settings.live.target_fpir,
            "live_thresholds": [
                {
                    "watchlist_size": n,
                    "threshold": (t := self.live_floor(n)),
                    "false_alerts_per_100k": expected_false_alerts(self.rt.engine.card, t, n),
                }
                for n in (100, 1_000, 2_000, 10_000, 100_000)
            ],
            "window": deployments.DEFAULT_WINDOW,
            "max_window": timedelta(hours=self.rt.settings.live.max_window_hours),
        }

    def plan(self, principal: Principal, plan: DeploymentPlan) -> DeploymentView:
        """Draft a deployment with every safeguard; nothing runs until another officer authorises it."""
        principal.require(Permission.DEPLOYMENT_CREATE)
        require_camera_networks(self.rt.settings)
        plan.cameras = {name: camera_source(self.rt.settings, self.rt.home, src) for name, src in plan.cameras.items()}
        with self.rt.db.transaction() as session:
            check_gallery_use(session, plan.source_gallery, GalleryUse.LIVE)  # purpose limitation: 409 if not
            subjects = deployments.subjects_in_watchlist(
                session, plan.source_gallery, plan.categories, self.rt.engine.space
            )
            floor = self.live_floor(subjects)
            now, window = now_utc(), timedelta(hours=self.rt.settings.live.max_window_hours)
            plan.resolve(now, floor)
            d = deployments.create(
                session,
                plan,
                created_by=principal.username,
                floor=floor,
                box=self.rt.secret_box,
                now=now,
                max_window=window,
            )
            audit.record(
                session,
                principal.username,
                events.DeploymentCreate(
                    categories=d.categories,
                    location=d.location,
                    threshold=d.threshold,
                    subjects=subjects,
                    two_person=d.two_person,
                    starts_at=aware(d.starts_at).isoformat(),
                    ends_at=aware(d.ends_at).isoformat(),
                    cameras=sorted(plan.cameras),
                    public_notice=sorted(plan.public_notice),
                ),
                f"deployment:{d.name}",
                plan.grounds,
            )
            return self._view(session, d)

    def close(self, principal: Principal, name: str, reason: str, *, wait_s: float = 10.0) -> DeploymentView:
        """End the deployment now, stopping its cameras wherever they run; the snapshot is erased on schedule."""
        principal.require(Permission.DEPLOYMENT_CLOSE)
        if not (reason or "").strip():
            raise SafeguardMissingError("say why the deployment is closed (it is recorded)")
        with self.rt.db.transaction() as session:
            d = deployments.get(session, name, for_update=True)
            if not deployments.close(d, reason.strip()):
                raise ConflictError(f"deployment '{d.name}' is closed already")
            audit.record(session, principal.username, events.DeploymentClose(), f"deployment:{d.name}", reason.strip())
            view = self._view(session, d)
        self.rt.cameras.signal_stop(view.id, wait_s)
        return view

    def purge(self, principal: Principal) -> dict:
        """Close deployments whose window has ended and erase watchlist snapshots past their retention."""
        principal.require(Permission.RETENTION_RUN)
        retention = timedelta(hours=self.rt.settings.live.snapshot_retention_hours)
        with self.rt.db.transaction() as session:
            # Every row this touches is locked before the first audit event is written, so a purge and a
            # Start on the same deployment take their locks in one order (PostgreSQL cannot deadlock them).
            ending = deployments.expired(session, for_update=True)
            due = deployments.snapshots_due(session, retention, for_update=True)
            closed = []
            for d in ending:
                deployments.close(d, "time window ended")
                audit.record(
                    session, principal.username, events.DeploymentClose(), f"deployment:{d.name}", "time window ended"
                )
                closed.append(d.name)
            erased = []
            for d in due:
                deployments.erase_snapshot(session, d)
                audit.record(session, principal.username, events.DeploymentSnapshotErase(), f"deployment:{d.name}")
                erased.append((d.name, d.id))
        for _, deployment_id in erased:
            shutil.rmtree(deployments.snapshot_dir(self.rt.home, deployment_id), ignore_errors=True)
        if erased:
            self.rt.db.purge_freed_pages()
        return {"closed": closed, "snapshots_erased": [n for n, _ in erased]}


def _aware(moment: datetime | None) -> datetime | None:
    return aware(moment) if moment is not None else None
