"""Authorising a deployment, and what the authorising officer sees before deciding: the watchlist the plan
would snapshot (people and images by category, and who in the gallery it leaves out), the threshold that
would apply at that size with the false alerts it is expected to raise, the cameras' sources (never their
credentials), the faces themselves on demand, and the plans awaiting them.

The counts are no one's personal data, so anyone who may read deployments may preview a plan (operators
and planners see the same figures). Faces and names are: only an officer who may authorise this very plan
(an authorising officer who did not plan it, while it is a draft) may page through them, each page and each
image recorded in the audit trail. Authorising officers hold no gallery.read: they see this plan's
watchlist, never a gallery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from openfr.engine.pipeline import FaceEngine
from openfr.errors import NotFoundError
from openfr.governance import audit, credentials, events
from openfr.governance.grants import ViewGrants
from openfr.governance.permissions import Permission
from openfr.governance.uses import GalleryUse, check_gallery_use
from openfr.live import lifecycle
from openfr.live.camera_secrets import where
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentStateError, aware, now_utc
from openfr.services.deployment_view import DeploymentView, DeploymentViews
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases, service
from openfr.settings import Settings
from openfr.store import Deployment, Gallery, SourceImage, Subject
from openfr.store.live_tables import CATEGORIES
from openfr.thresholds import expected_false_alerts, group_rates

FACES_PAGE = 24  # people per page of faces: enough to scan, few enough that each page is a deliberate look
FACES_PAGE_MAX = 100


@service
class DeploymentAuthorisation(UseCases):
    """Part of DeploymentService (the doors reach it as `app.deployments.authorise`, ...)."""

    use_case_prefix = "deployments"  # refusals name their use case "deployments.<method>", as the doors call it

    settings: Settings
    home: Path
    engine: Callable[[], FaceEngine]
    view_grants: Callable[[], ViewGrants]
    views: DeploymentViews

    def awaiting_authorisation(self, principal: Principal) -> list[DeploymentView]:
        """Drafts this officer may authorise: planned by someone else, window not yet ended (soonest first)."""
        principal.require(Permission.DEPLOYMENT_AUTHORISE)
        with self.db().read() as session:
            query = (
                select(Deployment)
                .where(
                    Deployment.state == "draft",
                    Deployment.created_by != principal.username,
                    Deployment.ends_at > now_utc(),
                )
                .order_by(Deployment.starts_at, Deployment.id)
            )
            return [self.views.view(session, d, detail=False) for d in session.scalars(query)]

    def preview(self, principal: Principal, name: str) -> dict:
        """For a plan awaiting authorisation: the watchlist authorising it now would snapshot, by category,
        the threshold that would then apply (the plan's, or the live floor for that many people if higher)
        with its expected false alerts and per-group rates, the cameras as the officer should see them, and
        the checklist to answer."""
        principal.require(Permission.DEPLOYMENT_READ)
        space = self.engine().space
        with self.db().read() as session:
            d = lifecycle.get(session, name)
            if d.state != "draft":
                raise DeploymentStateError(
                    f"deployment '{d.name}' is {d.state}: its watchlist is the snapshot taken at authorisation"
                )
            included = _make_up(session, d, space)
            in_gallery = _gallery_make_up(session, d.source_gallery)
        people = sum(row["people"] for row in included.values())
        images = sum(row["images"] for row in included.values())
        floor = self.views.live_floor(people)
        threshold = max(d.threshold, floor)  # as authorisation would set it (live/lifecycle.authorise)
        card = self.engine().card
        ended = aware(d.ends_at) <= now_utc()  # a plan whose window has passed can no longer be authorised
        may_authorise = (
            principal.may(Permission.DEPLOYMENT_AUTHORISE) and principal.username != d.created_by and not ended
        )
        left_out = []
        for category, count in sorted(in_gallery.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
            missing = count - included.get(category, {}).get("people", 0)
            if missing > 0:
                why = "no enrolled image for this model" if category in d.categories else "category not approved"
                left_out.append({"category": category, "people": missing, "why": why})
        return {
            "name": d.name,
            "state": d.state,
            "created_by": d.created_by,
            "source_gallery": d.source_gallery,
            "categories": list(d.categories),
            "people": people,
            "images": images,
            "by_category": [
                {"category": c, **included.get(c, {"people": 0, "images": 0})} for c in CATEGORIES if c in d.categories
            ],
            "by_gallery": [{"gallery": d.source_gallery, "people": people, "images": images}],
            "gallery_people": sum(in_gallery.values()),
            "not_on_watchlist": left_out,
            "planned_threshold": d.threshold,
            "threshold": threshold,
            "threshold_raised": threshold > d.threshold,
            "live_floor": floor,
            "target_fpir": self.settings.live.target_fpir,
            "expected_false_alerts_per_100k": expected_false_alerts(card, threshold, people),
            "group_fmr": group_rates(card, threshold),
            "cameras": [{"name": c["name"], "where": where(c)} for c in d.cameras],
            "checklist": [{"key": k, "statement": text} for k, text in AUTHORISATION_CHECKLIST.items()],
            "window_ended": ended,
            "may_authorise": may_authorise,
        }

    def watchlist_faces(self, principal: Principal, name: str, *, offset: int = 0, limit: int = FACES_PAGE) -> dict:
        """A page of the people the plan would put on its watchlist (reference, name, category, the ids of
        their images), for the officer who may authorise it; the look is recorded."""
        principal.require(Permission.DEPLOYMENT_AUTHORISE)
        offset, limit = max(offset, 0), min(max(limit, 1), FACES_PAGE_MAX)
        space = self.engine().space
        with self.db().transaction() as session:
            d = lifecycle.get(session, name)
            lifecycle.check_authorisable(d, principal.username)
            rows = lifecycle.watchlist_rows_query(d.source_gallery, d.categories, space)
            total = lifecycle.subjects_in_watchlist(session, d.source_gallery, d.categories, space)
            page = session.execute(
                rows.with_only_columns(Subject.id, Subject.external_id, Subject.display_name, Subject.category)
                .group_by(Subject.id, Subject.external_id, Subject.display_name, Subject.category)
                .order_by(None)
                .order_by(Subject.external_id, Subject.id)
                .offset(offset)
                .limit(limit)
            ).all()
            images: dict[int, list[int]] = {row.id: [] for row in page}
            if images:
                for subject_id, image_id in session.execute(
                    rows.with_only_columns(Subject.id, SourceImage.id).where(Subject.id.in_(list(images)))
                ):
                    images[subject_id].append(image_id)
            audit.record(
                session,
                principal.username,
                events.DeploymentWatchlistView(
                    offset=offset, shown=len(page), total=total, subjects=[r.external_id for r in page]
                ),
                f"deployment:{d.name}",
            )
        grants = self.view_grants()  # the page's event above lists who is shown; their images come with it
        people = [
            {
                "subject": r.external_id, "name": r.display_name, "category": r.category, "images": images[r.id],
                "grants": {i: grants.grant(principal.username, "watchlist", name, i) for i in images[r.id]},
            }
            for r in page
        ]  # fmt: skip
        return {"deployment": name, "total": total, "offset": offset, "limit": limit, "people": people}

    def watchlist_face(self, principal: Principal, name: str, image_id: int, *, grant: str | None = None) -> Path:
        """One image of someone the plan would put on its watchlist (and no other image), for the officer
        who may authorise it; each look is recorded (who saw which subject's image, and when): with the grant
        of the recorded page that showed it, by that page's event."""
        principal.require(Permission.DEPLOYMENT_AUTHORISE)
        space = self.engine().space
        with self.db().transaction() as session:
            d = lifecycle.get(session, name)
            lifecycle.check_authorisable(d, principal.username)
            query = lifecycle.watchlist_rows_query(d.source_gallery, d.categories, space)
            row = session.execute(
                query.with_only_columns(SourceImage.stored_path, Subject.external_id).where(SourceImage.id == image_id)
            ).first()
            path = self.home / row.stored_path if row is not None and row.stored_path else None
            if path is None or not path.is_file():
                raise NotFoundError(f"no image {image_id} on the watchlist deployment '{d.name}' would take")
            if not self.view_grants().covers(grant, principal.username, "watchlist", name, image_id):
                audit.record(
                    session,
                    principal.username,
                    events.DeploymentWatchlistImageView(image=image_id, subject=row.external_id),
                    f"deployment:{d.name}",
                )
        return path

    def authorise(
        self, principal: Principal, name: str, note: str = "", checklist: Mapping[str, bool] | None = None
    ) -> DeploymentView:
        """Another officer approves the plan, answering yes to every item of the checklist
        (AUTHORISATION_CHECKLIST), recorded with the decision; the watchlist snapshot of the approved
        categories is frozen. Without the checklist nothing changes (BadInputError)."""
        principal.require(Permission.DEPLOYMENT_AUTHORISE)
        space = self.engine().space
        with self.db().transaction() as session:
            d = lifecycle.get(session, name, for_update=True)
            # The gallery may have lost its approval as a live source since the plan was drafted.
            check_gallery_use(session, d.source_gallery, GalleryUse.LIVE)
            rank = credentials.get_user(session, principal.username).rank
            lifecycle.check_rank(rank, self.settings.live.authoriser_min_rank)
            entries, subjects, raised_from = lifecycle.authorise(
                session, self.home, d, principal.username, note, space, self.views.live_floor, checklist, rank=rank
            )
            audit.record(
                session,
                principal.username,
                events.DeploymentAuthorise(
                    watchlist_entries=entries,
                    subjects=subjects,
                    threshold=d.threshold,
                    threshold_raised_from=raised_from,
                    two_person=d.two_person,
                    rank=rank,
                    checklist=lifecycle.confirmed_checklist(checklist),
                ),
                f"deployment:{d.name}",
                note,
            )
            return self.views.view(session, d)


def _make_up(session: Session, d: Deployment, space: str) -> dict[str, dict[str, int]]:
    """Per approved category: the people and images a snapshot taken now would hold."""
    query = lifecycle.watchlist_rows_query(d.source_gallery, d.categories, space)
    counts = query.with_only_columns(Subject.category, func.count(distinct(Subject.id)), func.count(SourceImage.id))
    rows = session.execute(counts.group_by(Subject.category).order_by(None))
    return {category: {"people": people, "images": images} for category, people, images in rows}


def _gallery_make_up(session: Session, gallery: str) -> dict[str | None, int]:
    """Everyone in the gallery by category (None: no category), to say who the watchlist leaves out."""
    query = (
        select(Subject.category, func.count(Subject.id))
        .join(Gallery, Gallery.id == Subject.gallery_id)
        .where(Gallery.name == gallery)
        .group_by(Subject.category)
    )
    counts: dict[str | None, int] = {}
    for category, count in session.execute(query):
        counts[category or None] = counts.get(category or None, 0) + count
    return counts
