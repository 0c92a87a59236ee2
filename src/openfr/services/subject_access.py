"""Subject access: "was I on a watchlist?" answered from the records, with a photo or a reference.

A permitted role (the auditor: data protection work reads and changes nothing) gives a reason and either
the person's reference in a gallery or their photo. A photo is searched, in memory only, against every
current gallery at the pack's 1:1 threshold (a verification question: is this the same person?); the
subjects it matches, or the reference given, are then looked up in
- current galleries (subject records, their category and provenance),
- the watchlist history of every deployment (`WatchlistMember`, kept without biometrics after the snapshot
  is erased), including when they were taken off,
- alerts raised about them, and
- searches that returned them as a candidate.
The report is what a data protection officer needs to answer; the request itself is an audit event (who
asked, why, how many records were found), never the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from openfr.errors import BadInputError
from openfr.governance import audit
from openfr.governance.permissions import Permission
from openfr.imageio import load_image
from openfr.live.deployments import aware
from openfr.runtime import Runtime
from openfr.services.principal import Principal
from openfr.store import Alert, Deployment, Gallery, SearchRecord, Subject, WatchlistMember


@dataclass
class AccessRequest:
    reason: str  # why the request is made (e.g. the DPO's case number): recorded
    reference: str | None = None  # the person's reference in a gallery
    gallery: str | None = None  # narrows a reference to one gallery


def _named(keys: set[tuple[str | None, str]], gallery: str, reference: str | None) -> bool:
    """Whether (gallery, reference) is the person asked about (a reference given without a gallery
    matches it in any gallery)."""
    return (gallery, reference) in keys or (None, reference) in keys


def _when(moment) -> str | None:
    return aware(moment).isoformat() if moment is not None else None


class SubjectAccessService:
    def __init__(self, runtime: Runtime):
        self.rt = runtime

    def galleries(self, principal: Principal) -> list[str]:
        """What a request form offers: the galleries a reference can be narrowed to."""
        principal.require(Permission.SUBJECT_ACCESS)
        with self.rt.db.read() as session:
            return list(session.scalars(select(Gallery.name).order_by(Gallery.name)))

    def report(self, principal: Principal, request: AccessRequest, photo: bytes | None = None) -> dict:
        principal.require(Permission.SUBJECT_ACCESS)
        if not request.reason.strip():
            raise BadInputError("a subject access request needs a reason (it is recorded)")
        reference = (request.reference or "").strip()
        if bool(reference) == bool(photo):
            raise BadInputError("give either the person's reference or their photo")
        matched = self._by_photo(photo) if photo else self._by_reference(reference, request.gallery)
        keys = {(m["gallery"], m["reference"]) for m in matched} or {(request.gallery, reference)}
        refs = {ref for _, ref in keys}
        with self.rt.db.read() as session:
            listings = [
                {
                    "deployment": d.name,
                    "location": d.location,
                    "gallery": m.gallery,
                    "reference": m.subject_ref,
                    "category": m.category,
                    "listed_at": _when(m.listed_at),
                    "removed_at": _when(m.removed_at),
                    "live_from": _when(d.live_at),
                    "closed_at": _when(d.closed_at),
                }
                for m, d in session.execute(
                    select(WatchlistMember, Deployment)
                    .join(Deployment, Deployment.id == WatchlistMember.deployment_id)
                    .where(WatchlistMember.subject_ref.in_(refs))
                    .order_by(WatchlistMember.listed_at)
                )
                if _named(keys, m.gallery, m.subject_ref)
            ]
            alerts = [
                {
                    "deployment": d.name,
                    "camera": a.camera,
                    "at": _when(a.created_at),
                    "state": a.state,
                    "outcome": a.outcome,
                }
                for a, d in session.execute(
                    select(Alert, Deployment)
                    .join(Deployment, Deployment.id == Alert.deployment_id)
                    .where(Alert.subject_ref.in_(refs))
                    .order_by(Alert.id)
                )
                if _named(keys, d.source_gallery, a.subject_ref)
            ]
            searches = []
            for record in session.scalars(select(SearchRecord).order_by(SearchRecord.id)):
                for rank, candidate in enumerate(record.candidates or [], 1):
                    if _named(keys, record.gallery, candidate.get("subject")):
                        searches.append(
                            {"at": _when(record.at), "mode": record.mode, "gallery": record.gallery, "rank": rank}
                        )
        report = {"subjects": matched, "watchlists": listings, "alerts": alerts, "searches_returning": searches}
        with self.rt.db.transaction() as session:
            audit.record(
                session, principal.username, "subject-access", "subjects", request.reason.strip(),
                by="photo" if photo else "reference", subjects=len(matched), watchlists=len(listings),
                alerts=len(alerts), searches=len(searches),
            )  # fmt: skip
        return report

    def _by_reference(self, reference: str, gallery: str | None) -> list[dict]:
        with self.rt.db.read() as session:
            query = select(Subject, Gallery).join(Gallery).where(Subject.external_id == reference)
            if gallery:
                query = query.where(Gallery.name == gallery)
            return [self._subject(s, g, None) for s, g in session.execute(query)]

    def _by_photo(self, photo: bytes) -> list[dict]:
        image = load_image(
            photo,
            max_pixels=self.rt.settings.engine.max_image_pixels,
            working_pixels=self.rt.settings.engine.working_pixels,
        )
        probe = self.rt.engine.probe(image, name="subject access photo", require_usable=False)
        assert probe.embedding is not None
        threshold = self.rt.engine.card.threshold  # "is this the same person?" is a 1:1 question
        found = []
        with self.rt.db.read() as session:
            for gallery in session.scalars(select(Gallery).order_by(Gallery.name)):
                if gallery.space != probe.embedding.space:
                    continue  # another model's gallery: searched with that model's pack
                for c in self.rt.searcher.rank(session, gallery, probe.embedding, 20):
                    if c.score >= threshold:
                        subject = session.scalars(
                            select(Subject).where(Subject.gallery_id == gallery.id, Subject.external_id == c.subject)
                        ).first()
                        if subject is not None:
                            found.append(self._subject(subject, gallery, c.score))
        return found  # the probe and its vector go out of scope here: never stored

    @staticmethod
    def _subject(subject: Subject, gallery: Gallery, score: float | None) -> dict:
        return {
            "gallery": gallery.name,
            "reference": subject.external_id,
            "name": subject.display_name,
            "category": subject.category,
            "source": subject.source,
            "score": None if score is None else round(score, 4),
        }
