"""Live-deployment use cases: plan, close, purge, and read them. Its parts, each a service of its own with the
dependencies it declares: starting, running and stopping the cameras in runs.py; authorising, and what the
authorising officer sees first, in authorisation.py; statistics in deployment_statistics.py. The doors reach
them all through DeploymentService (`app.deployments.start`, ...).

Close is recorded here and reaches the cameras wherever they run: in this process at once, in another at
its next lease renewal (`live.heartbeat_s`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from openfr.bus import InProcessBus
from openfr.engine.pipeline import FaceEngine
from openfr.errors import ConflictError, SafeguardMissingError
from openfr.gallery import repository
from openfr.governance import audit, events
from openfr.governance.grants import ViewGrants
from openfr.governance.permissions import Permission
from openfr.governance.secretbox import SecretBox
from openfr.governance.uses import GalleryUse, check_gallery_use
from openfr.live import lifecycle
from openfr.live.lifecycle import DeploymentPlan, aware, now_utc
from openfr.live.setup import camera_source, require_camera_networks, video_files, video_folder
from openfr.live.supervisor import CameraSupervisor
from openfr.services.authorisation import DeploymentAuthorisation
from openfr.services.deployment_statistics import DeploymentStatistics
from openfr.services.deployment_view import DeploymentView, DeploymentViews
from openfr.services.principal import Principal
from openfr.services.refusals import PartUseCase, UseCases, service
from openfr.services.runs import DeploymentRuns
from openfr.settings import Settings
from openfr.store import Deployment
from openfr.store.live_tables import CATEGORIES, NOTICES
from openfr.thresholds import expected_false_alerts


@service
class DeploymentService(UseCases):
    """Plan, read, close and purge deployments; its parts run the cameras (`runs`), authorise plans
    (`authorisation`) and count what deployments did (`stats`), each with its own dependencies. The doors
    reach every deployment use case here, as `app.deployments.<use case>` (the parts' ones listed below)."""

    use_case_prefix = "deployments"  # refusals name their use case "deployments.<method>"

    settings: Settings
    home: Path
    engine: Callable[[], FaceEngine]
    cameras: CameraSupervisor
    bus: InProcessBus
    secret_box: Callable[[], SecretBox]
    view_grants: Callable[[], ViewGrants]
    # The parts, built from the same dependencies.
    views: DeploymentViews = field(init=False)
    runs: DeploymentRuns = field(init=False)
    authorisation: DeploymentAuthorisation = field(init=False)
    stats: DeploymentStatistics = field(init=False)

    def __post_init__(self) -> None:
        db, settings, home, engine, cameras = self.db, self.settings, self.home, self.engine, self.cameras
        self.views = DeploymentViews(settings, engine, cameras)
        self.runs = DeploymentRuns(
            db, settings, home, cameras, self.bus, self.secret_box, engine, housekeeping=self.purge
        )
        self.authorisation = DeploymentAuthorisation(db, settings, home, engine, self.view_grants, self.views)
        self.stats = DeploymentStatistics(db, engine, cameras)

    # The parts' use cases, under this service's name for the doors: each is the part's own method.
    start = PartUseCase("runs", DeploymentRuns.start)
    run = PartUseCase("runs", DeploymentRuns.run)
    stop = PartUseCase("runs", DeploymentRuns.stop)
    recover = PartUseCase("runs", DeploymentRuns.recover)
    camera_source = PartUseCase("runs", DeploymentRuns.camera_source)
    awaiting_authorisation = PartUseCase("authorisation", DeploymentAuthorisation.awaiting_authorisation)
    preview = PartUseCase("authorisation", DeploymentAuthorisation.preview)
    watchlist_faces = PartUseCase("authorisation", DeploymentAuthorisation.watchlist_faces)
    watchlist_face = PartUseCase("authorisation", DeploymentAuthorisation.watchlist_face)
    authorise = PartUseCase("authorisation", DeploymentAuthorisation.authorise)
    statistics = PartUseCase("stats", DeploymentStatistics.statistics)
    statistics_report = PartUseCase("stats", DeploymentStatistics.statistics_report)
    export_statistics = PartUseCase("stats", DeploymentStatistics.export_statistics)

    @property
    def floor(self) -> float:
        """The model's 1:1 threshold: nothing alerts below it, whatever the watchlist."""
        return self.views.floor

    def live_floor(self, subjects: int) -> float:
        """The lowest threshold for a watchlist of `subjects` people (see DeploymentViews.live_floor)."""
        return self.views.live_floor(subjects)

    # -- reading --------------------------------------------------------------------------------------

    def list(self, principal: Principal, *, open_only: bool = False) -> list[DeploymentView]:
        principal.require(Permission.DEPLOYMENT_READ)
        with self.db().read() as session:
            query = select(Deployment).order_by(Deployment.id.desc())
            if open_only:
                query = query.where(Deployment.state != "closed")
            return [self.views.view(session, d, detail=False) for d in session.scalars(query)]

    def get(self, principal: Principal, name: str) -> DeploymentView:
        principal.require(Permission.DEPLOYMENT_READ)
        with self.db().read() as session:
            return self.views.view(session, lifecycle.get(session, name))

    # -- planning and authorising -------------------------------------------------------------------------

    def planning_options(self, principal: Principal) -> dict:
        """What a plan may choose from: categories, kinds of notice, galleries, video files, the threshold
        floor and default, and the default window."""
        principal.require(Permission.DEPLOYMENT_CREATE)
        with self.db().read() as session:
            # Only galleries approved as a live source can be chosen (plan refuses the others anyway).
            galleries = [g["name"] for g in repository.gallery_stats(session) if GalleryUse.LIVE in g["uses"]]
        return {
            "categories": CATEGORIES,
            "notice_kinds": NOTICES,
            "galleries": galleries,
            "videos": video_files(self.settings, self.home),
            "video_folder": video_folder(self.settings, self.home),
            "calibrated": self.floor,
            "default_threshold": self.engine().threshold,
            "target_fpir": self.settings.live.target_fpir,
            "live_thresholds": [
                {
                    "watchlist_size": n,
                    "threshold": (t := self.live_floor(n)),
                    "false_alerts_per_100k": expected_false_alerts(self.engine().card, t, n),
                }
                for n in (100, 1_000, 2_000, 10_000, 100_000)
            ],
            "window": lifecycle.DEFAULT_WINDOW,
            "max_window": timedelta(hours=self.settings.live.max_window_hours),
        }

    def plan(self, principal: Principal, plan: DeploymentPlan) -> DeploymentView:
        """Draft a deployment with every safeguard; nothing runs until another officer authorises it."""
        principal.require(Permission.DEPLOYMENT_CREATE)
        require_camera_networks(self.settings)
        plan.cameras = {name: camera_source(self.settings, self.home, src) for name, src in plan.cameras.items()}
        with self.db().transaction() as session:
            check_gallery_use(session, plan.source_gallery, GalleryUse.LIVE)  # purpose limitation: 409 if not
            subjects = lifecycle.subjects_in_watchlist(
                session, plan.source_gallery, plan.categories, self.engine().space
            )
            floor = self.live_floor(subjects)
            now, window = now_utc(), timedelta(hours=self.settings.live.max_window_hours)
            plan.resolve(now, floor)
            d = lifecycle.create(
                session,
                plan,
                created_by=principal.username,
                floor=floor,
                box=self.secret_box(),
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
            return self.views.view(session, d)

    def close(self, principal: Principal, name: str, reason: str, *, wait_s: float = 10.0) -> DeploymentView:
        """End the deployment now, stopping its cameras wherever they run; the snapshot is erased on schedule."""
        principal.require(Permission.DEPLOYMENT_CLOSE)
        if not (reason or "").strip():
            raise SafeguardMissingError("say why the deployment is closed (it is recorded)")
        with self.db().transaction() as session:
            d = lifecycle.get(session, name, for_update=True)
            if not lifecycle.close(d, reason.strip()):
                raise ConflictError(f"deployment '{d.name}' is closed already")
            audit.record(session, principal.username, events.DeploymentClose(), f"deployment:{d.name}", reason.strip())
            view = self.views.view(session, d)
        self.cameras.signal_stop(view.id, wait_s)
        return view

    def purge(self, principal: Principal) -> dict:
        """Close deployments whose window has ended and erase watchlist snapshots past their retention."""
        principal.require(Permission.RETENTION_RUN)
        retention = timedelta(hours=self.settings.live.snapshot_retention_hours)
        with self.db().transaction() as session:
            # Every row this touches is locked before the first audit event is written, so a purge and a
            # Start on the same deployment take their locks in one order (PostgreSQL cannot deadlock them).
            ending = lifecycle.expired(session, for_update=True)
            due = lifecycle.snapshots_due(session, retention, for_update=True)
            closed = []
            for d in ending:
                lifecycle.close(d, "time window ended")
                audit.record(
                    session, principal.username, events.DeploymentClose(), f"deployment:{d.name}", "time window ended"
                )
                closed.append(d.name)
            erased = []
            for d in due:
                lifecycle.erase_snapshot(session, d)
                audit.record(session, principal.username, events.DeploymentSnapshotErase(), f"deployment:{d.name}")
                erased.append((d.name, d.id))
        for _, deployment_id in erased:
            shutil.rmtree(lifecycle.snapshot_dir(self.home, deployment_id), ignore_errors=True)
        if erased:
            self.db().purge_freed_pages()
        return {"closed": closed, "snapshots_erased": [n for n, _ in erased]}
