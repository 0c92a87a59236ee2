"""Subject access: "was I on a watchlist?" answered from the records, with a photo or a reference.

A permitted role (the auditor: data protection work reads and changes nothing) gives a reason and either
the person's reference in a gallery or their photo. A photo is a 1:N search of every current gallery, so it
is compared at an identification threshold for the number of people compared
(`search.subject_access_target_fpir`), not the 1:1 one: at 1:1, a large store always holds a look-alike, and
disclosing a look-alike's records discloses a third party. Even then a match is a candidate: nothing is
disclosed until the auditor has looked at each candidate's enrolled image beside the photo and confirmed
which are the person (`match`, then `report` with the confirmed ones and the match's ticket). The ticket
is the candidate list sealed with the installation's secrets key (governance/secretbox.py): it binds the
confirmation to what the photo matched, for that auditor, for an hour, without storing anything.

The subjects confirmed, or the reference given, are then looked up in
- current galleries (subject records, their category and provenance),
- the watchlist history of every deployment (`WatchlistMember`, kept without biometrics after the snapshot
  is erased), including when they were taken off,
- alerts raised about them, and
- searches that returned them as a candidate.
The report is what a data protection officer needs to answer; the request itself is an audit event (who
asked, why, how many records were found), never the photo.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Result, select
from sqlalchemy.orm import Session

from openfr.engine.pipeline import FaceEngine
from openfr.errors import BadInputError, NotFoundError, SafeguardMissingError
from openfr.gallery import repository
from openfr.gallery.browse import first_enrolled_image
from openfr.gallery.search import GallerySearcher
from openfr.governance import audit, events
from openfr.governance.permissions import Permission
from openfr.governance.secretbox import SecretBox, SecretKeyError, is_sealed
from openfr.imageio import load_image
from openfr.live.lifecycle import aware
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases, service
from openfr.settings import Settings
from openfr.store import Alert, Deployment, Gallery, SearchRecord, Subject, WatchlistMember
from openfr.thresholds import describe_chance, false_match_chance, identification_threshold


@dataclass
class AccessRequest:
    reason: str  # why the request is made (e.g. the DPO's case number): recorded
    reference: str | None = None  # the person's reference in a gallery
    gallery: str | None = None  # narrows a reference to one gallery
    # A photo's candidates the auditor confirmed as the person ("gallery/reference"), with the match's ticket.
    confirmed: tuple[str, ...] = ()
    ticket: str | None = None


TICKET_S = 3600  # how long an auditor has to compare the candidates and confirm


@dataclass
class PhotoMatch:
    """A photo's candidates, for the auditor to confirm or not; nothing about their records yet."""

    ticket: str  # sealed: the candidates, the auditor, the expiry
    candidates: list[dict]  # gallery, reference, name, score, image (index for candidate_image)
    threshold: float
    compared: int  # people compared with the photo
    false_matches: str  # the chance that a stranger's photo matches anyone, in words

    def as_dict(self) -> dict:
        return {
            "step": "confirm",
            "ticket": self.ticket,
            "candidates": self.candidates,
            "threshold": round(self.threshold, 4),
            "compared": self.compared,
            "false_matches": self.false_matches,
            "disclosed": "nothing yet: confirm which candidates are the person (POST /api/subject-access/confirm)",
        }


def _named(keys: set[tuple[str | None, str]], gallery: str, reference: str | None) -> bool:
    """Whether (gallery, reference) is the person asked about (a reference given without a gallery
    matches it in any gallery)."""
    return (gallery, reference) in keys or (None, reference) in keys


def _reason(request: AccessRequest) -> str:
    reason = (request.reason or "").strip()
    if not reason:
        raise SafeguardMissingError("a subject access request needs a reason (it is recorded)")
    return reason


def _when(moment) -> str | None:
    return aware(moment).isoformat() if moment is not None else None


def _with_deployment(session: Session, table: type[WatchlistMember] | type[Alert], refs: set[str], order) -> Result:
    """(row, its deployment) for each row of a deployment's table (watchlist members, alerts) that names one of
    `refs`, in `order`."""
    return session.execute(
        select(table, Deployment)
        .join(Deployment, Deployment.id == table.deployment_id)
        .where(table.subject_ref.in_(refs))
        .order_by(order)
    )


@service
class SubjectAccessService(UseCases):
    use_case_prefix = "subject_access"  # refusals name their use case "subject_access.<method>"

    settings: Settings
    home: Path
    engine: Callable[[], FaceEngine]
    searcher: Callable[[], GallerySearcher]
    secret_box: Callable[[], SecretBox]

    def galleries(self, principal: Principal) -> list[str]:
        """What a request form offers: the galleries a reference can be narrowed to."""
        principal.require(Permission.SUBJECT_ACCESS)
        with self.db().read() as session:
            return list(session.scalars(select(Gallery.name).order_by(Gallery.name)))

    def match(self, principal: Principal, request: AccessRequest, photo: bytes) -> PhotoMatch:
        """Step one of a request by photo: the candidates at or above the identification threshold, each with
        its enrolled image to compare (candidate_image). Nothing about their records is disclosed; the
        request (who, why, how many candidates) is recorded, never the photo."""
        principal.require(Permission.SUBJECT_ACCESS)
        reason = _reason(request)
        if not photo:
            raise BadInputError("give the person's photo")
        found, threshold, compared = self._by_photo(photo)
        candidates = [{**c, "image": i} for i, c in enumerate(found)]
        sealed = {"by": principal.username, "until": time.time() + TICKET_S, "candidates": found}
        ticket = self.secret_box().seal(json.dumps(sealed, separators=(",", ":")))
        with self.db().transaction() as session:
            audit.record(
                session,
                principal.username,
                events.SubjectAccessMatch(candidates=len(found), compared=compared, threshold=round(threshold, 4)),
                "subjects",
                reason,
            )
        chance = false_match_chance(self.engine().card, threshold, compared)
        return PhotoMatch(
            ticket, candidates, threshold, compared, describe_chance(chance).replace("searches", "photos")
        )

    def candidate_image(self, principal: Principal, ticket: str, index: int) -> Path:
        """The enrolled image of one of a match's candidates, for the auditor who asked (shown once listed:
        the match's event records what was put in front of them)."""
        principal.require(Permission.SUBJECT_ACCESS)
        found = self._ticket(principal, ticket)
        if not 0 <= index < len(found):
            raise NotFoundError(f"the match has no candidate {index}")
        with self.db().read() as session:
            relative = first_enrolled_image(session, found[index]["gallery"], found[index]["reference"])
        if relative is None:
            raise NotFoundError("that candidate has no enrolled image any more")
        return self.home / relative

    def report(self, principal: Principal, request: AccessRequest, photo: bytes | None = None) -> dict:
        """Everything the records hold about the person named by a reference, or about the candidates of a
        photo match that the auditor confirmed (`request.confirmed` with `request.ticket`). A photo given
        here is step one (`match`): refused, so that no door can disclose without the confirmation."""
        principal.require(Permission.SUBJECT_ACCESS)
        reason = _reason(request)
        if photo:
            raise BadInputError("a photo is matched first (its candidates are confirmed before any disclosure)")
        reference = (request.reference or "").strip()
        if request.ticket is not None:
            if reference:
                raise BadInputError("give either the person's reference or a photo match's confirmation")
            matched = self._confirmed(principal, request)
        elif not reference:
            raise BadInputError("give either the person's reference or their photo")
        else:
            matched = self._by_reference(reference, request.gallery)
        keys = {(m["gallery"], m["reference"]) for m in matched} or (
            {(request.gallery, reference)} if reference else set()
        )
        report = self._records(keys)
        with self.db().transaction() as session:
            audit.record(
                session,
                principal.username,
                events.SubjectAccess(
                    by="photo" if request.ticket is not None else "reference",
                    subjects=len(matched),
                    watchlists=len(report["watchlists"]),
                    alerts=len(report["alerts"]),
                    searches=len(report["searches_returning"]),
                ),
                "subjects",
                reason,
            )
        return {"subjects": matched, **report}

    def _records(self, keys: set[tuple[str | None, str]]) -> dict:
        """What the records hold about the (gallery, reference) pairs: watchlists, alerts, searches."""
        refs = {ref for _, ref in keys}
        with self.db().read() as session:
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
                for m, d in _with_deployment(session, WatchlistMember, refs, WatchlistMember.listed_at)
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
                for a, d in _with_deployment(session, Alert, refs, Alert.id)
                if _named(keys, d.source_gallery, a.subject_ref)
            ]
            searches = []
            for record in session.scalars(select(SearchRecord).order_by(SearchRecord.id)):
                for rank, candidate in enumerate(record.candidates or [], 1):
                    if _named(keys, record.gallery, candidate.get("subject")):
                        searches.append(
                            {"at": _when(record.at), "mode": record.mode, "gallery": record.gallery, "rank": rank}
                        )
        return {"watchlists": listings, "alerts": alerts, "searches_returning": searches}

    def _confirmed(self, principal: Principal, request: AccessRequest) -> list[dict]:
        """The photo match's candidates the auditor confirmed (each must be one of the match's own)."""
        found = self._ticket(principal, request.ticket or "")
        offered = {f"{c['gallery']}/{c['reference']}": c for c in found}
        unknown = [key for key in request.confirmed if key not in offered]
        if unknown:
            raise BadInputError(f"not a candidate of this photo match: {', '.join(unknown)[:200]}")
        return [offered[key] for key in dict.fromkeys(request.confirmed)]

    def _ticket(self, principal: Principal, ticket: str) -> list[dict]:
        """The candidates sealed in a match's ticket, if it is this auditor's and has not expired."""
        try:
            sealed = json.loads(self.secret_box().open(ticket)) if is_sealed(ticket) else None
        except (SecretKeyError, ValueError):
            sealed = None
        if not isinstance(sealed, dict) or sealed.get("by") != principal.username:
            raise BadInputError("that is not a photo match of yours: match the photo again")
        if sealed.get("until", 0) < time.time():
            raise BadInputError("the photo match has expired (after an hour): match the photo again")
        return list(sealed["candidates"])

    def _by_reference(self, reference: str, gallery: str | None) -> list[dict]:
        with self.db().read() as session:
            query = select(Subject, Gallery).join(Gallery).where(Subject.external_id == reference)
            if gallery:
                query = query.where(Gallery.name == gallery)
            return [self._subject(s, g, None) for s, g in session.execute(query)]

    def _by_photo(self, photo: bytes) -> tuple[list[dict], float, int]:
        """Candidates in every gallery of this model's space, the threshold used, and how many people were
        compared: the threshold is an identification one for all of them together."""
        image = load_image(
            photo,
            max_pixels=self.settings.engine.max_image_pixels,
            working_pixels=self.settings.engine.working_pixels,
        )
        probe = self.engine().probe(image, name="subject access photo", require_usable=False)
        assert probe.embedding is not None
        found = []
        with self.db().read() as session:
            galleries = [g for g in session.scalars(select(Gallery).order_by(Gallery.name))]
            galleries = [g for g in galleries if g.space == probe.embedding.space]  # others: with their own pack
            compared = sum(repository.subject_count(session, g) for g in galleries)
            target = self.settings.search.subject_access_target_fpir
            engine = self.engine()
            threshold = identification_threshold(engine.card, compared, target, at_least=engine.threshold)
            for gallery in galleries:
                for c in self.searcher().rank(session, gallery, probe.embedding, 20):
                    if c.score >= threshold:
                        subject = session.scalars(
                            select(Subject).where(Subject.gallery_id == gallery.id, Subject.external_id == c.subject)
                        ).first()
                        if subject is not None:
                            found.append(self._subject(subject, gallery, c.score))
        found.sort(key=lambda c: -c["score"])
        return found, threshold, compared  # the probe and its vector go out of scope here: never stored

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
