"""Operator-initiated facial recognition (OIFR): an officer photographs someone who cannot or will not give
their details, on approved grounds, and gets custody-image candidates to confirm by other means.

The rules, all here, whatever the door (phone page, API, command line):
- the grounds are one of an approved list (GROUNDS), with the officer's own account of them (details,
  required) and optionally where it happened; all three are recorded with the search and its audit event;
- only a gallery approved for operator-initiated searches is reached (governance/uses.py); without a
  choice, the one such gallery; the check itself is SearchService's, so no door can go round it;
- the top candidates (TOP, 6 unless asked) at or above the identification threshold for the gallery's size
  (search.oifr_target_fpir: the chance that a search of someone NOT in the gallery lists anyone) are listed,
  each a "possible match"
  (POSSIBLE_MATCH) whose custody image only the searching officer may see (SearchService.candidate_image);
- the officer records what came of it (RESULTS), once, in the search record and the audit trail.

The photo is SearchService's to handle: decoded in memory, searched and dropped, never written anywhere
and never logged. This module never holds it beyond the call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select

from openfr.errors import BadInputError, ConflictError, NotFoundError, SafeguardMissingError
from openfr.gallery.search import Candidate
from openfr.governance import audit, events
from openfr.governance.permissions import Permission
from openfr.governance.uses import GalleryUse
from openfr.services.gallery_uses import approved_galleries
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases, service
from openfr.services.searches import ProbeSearch, SearchRequest
from openfr.store import SearchRecord
from openfr.thresholds import describe_chance

GROUNDS: dict[str, str] = {
    "injury": "Unable to give details through injury or incapacity",
    "refuses": "Refuses to give details and is suspected of an offence",
    "missing-or-wanted": "Believed to be missing or wanted",
}
RESULTS: dict[str, str] = {
    "confirmed-by-other-means": "Identity confirmed by other means",
    "not-the-person": "Not the person",
    "inconclusive": "Inconclusive",
}
POSSIBLE_MATCH = "Possible match: confirm identity by other means."
MODE = "OIFR"
# Six faces fit a phone screen beside the probe and are what forces' OIFR procedures show; more invites
# browsing custody images at the roadside, so a door may ask for fewer or a few more, never a long list.
TOP, TOP_MAX = 6, 20
DETAILS_MAX, LOCATION_MAX, NOTE_MAX = 2000, 300, 2000  # characters


@dataclass
class OifrResult:
    search_id: int
    gallery: str
    grounds: str
    candidates: list[Candidate]  # at or above the threshold, best first, at most `top`
    threshold: float
    probe_quality: dict
    warning: str | None  # the probe fails the quality gate: what the candidates are worth, in words
    elapsed_ms: float  # photo in -> candidates recorded, on the server
    top: int
    faces: list[dict] = field(default_factory=list)  # boxes of the faces found (searched: the largest)
    gallery_size: int = 0  # people in the gallery: what the threshold was set for
    false_candidate_chance: float | None = None  # that a search of someone not in it lists anyone
    grants: dict[int, str] = field(default_factory=dict)  # rank -> grant to fetch that custody image
    # The decoded photo, for a page that draws it in memory; never stored, never printed.
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    wording: str = POSSIBLE_MATCH

    def image_url(self, rank: int) -> str:
        """Where the searching officer's client fetches a candidate's custody image (theirs only; recorded with
        the search, whose event lists its candidates, through the grant)."""
        return f"/api/searches/{self.search_id}/candidates/{rank}/image?grant={self.grants.get(rank, '')}"

    def _candidate(self, c: Candidate) -> dict:
        # Every one listed reached the threshold: an OIFR search never lists the ranking below it.
        score = round(c.score, 4)
        return {"rank": c.rank, "subject": c.subject, "name": c.name, "score": score, "reached": True} | {
            "image": self.image_url(c.rank)
        }

    def as_dict(self) -> dict:
        return {
            "search_id": self.search_id,
            "gallery": self.gallery,
            "grounds": self.grounds,
            "wording": self.wording,
            "threshold": round(self.threshold, 4),
            "gallery_size": self.gallery_size,
            "false_candidates": describe_chance(self.false_candidate_chance),
            "probe_quality": self.probe_quality,
            "warning": self.warning,
            "top": self.top,
            "candidates": [self._candidate(c) for c in self.candidates],
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


@service
class OifrService(UseCases):
    use_case_prefix = "oifr"  # refusals name their use case "oifr.<method>"

    probes: ProbeSearch  # the 1:N search every photo search runs (services/searches.py)

    def grounds(self, principal: Principal | None = None) -> list[dict]:
        """The approved grounds, key and wording, for a form (checked against `principal` when given)."""
        if principal is not None:
            principal.require(Permission.SEARCH_OIFR)
        return [{"key": key, "label": label} for key, label in GROUNDS.items()]

    def results(self) -> list[dict]:
        """What an officer may record as the outcome, key and wording."""
        return [{"key": key, "label": label} for key, label in RESULTS.items()]

    def search(
        self,
        principal: Principal,
        image: bytes,
        *,
        grounds: str,
        details: str,
        location: str = "",
        gallery: str | None = None,
        top: int = TOP,
    ) -> OifrResult:
        """Search the photo on the grounds given. Refused before the photo is looked at: a role without
        search.oifr (403), unknown grounds, no details, a bad `top` (400), no gallery approved for OIFR or
        one that is not (409), several approved and none chosen (400: the doors offer `galleries`)."""
        principal.require(Permission.SEARCH_OIFR)
        key, words, where = _checked_grounds(grounds, details, location)
        if not 1 <= top <= TOP_MAX:
            raise BadInputError(f"top must be between 1 and {TOP_MAX}")
        started = time.perf_counter()
        target = (gallery or "").strip() or self._only_approved_gallery()
        request = SearchRequest(target, words, mode=MODE, top=top, grounds=key, location=where)
        found = self.probes.run(principal, request, image, name="photo")
        assert found.search_id is not None
        return OifrResult(
            found.search_id, target, key, found.candidates, found.threshold, found.probe_quality, found.warning,
            (time.perf_counter() - started) * 1000, top, found.faces, found.gallery_size,
            found.false_candidate_chance, found.grants, found.image,
        )  # fmt: skip

    def record_result(self, principal: Principal, search_id: int, result: str, note: str = "") -> dict:
        """What came of the search, recorded once, by the officer who made it: someone else's search, or one
        that is not an operator-initiated search, is a 404 (its existence is not theirs to learn); a second
        result is a 409. The note (optional) is the audit event's reason."""
        principal.require(Permission.SEARCH_OIFR)
        key = (result or "").strip().lower()
        if key not in RESULTS:
            raise BadInputError(f"result must be one of: {', '.join(RESULTS)}")
        why = (note or "").strip()
        if len(why) > NOTE_MAX:
            raise BadInputError(f"the note is longer than {NOTE_MAX} characters")
        with self.db().transaction() as session:
            query = select(SearchRecord).where(SearchRecord.id == search_id).with_for_update()
            record = session.scalar(query)
            if record is None or record.actor != principal.username or record.mode != MODE:
                raise NotFoundError(f"no operator-initiated search {search_id} of yours")
            if record.result is not None:
                raise ConflictError(f"the result of search {search_id} is recorded already ({record.result})")
            now = datetime.now(UTC)
            record.result, record.result_at, record.result_by = key, now, principal.username
            audit.record(
                session,
                principal.username,
                events.SearchResult(result=key, gallery=record.gallery, mode=MODE),
                f"search:{search_id}",
                why,
            )
        return {"search_id": search_id, "result": key, "result_at": now.isoformat()}

    def galleries(self, principal: Principal) -> list[str]:
        """The galleries approved for operator-initiated searches, for the phone page's choice (names only)."""
        principal.require(Permission.SEARCH_OIFR)
        with self.db().read() as session:
            return approved_galleries(session, GalleryUse.OIFR)

    def _only_approved_gallery(self) -> str:
        with self.db().read() as session:
            names = approved_galleries(session, GalleryUse.OIFR)
        if not names:
            raise ConflictError(
                "no gallery is approved for operator-initiated searches; an administrator approves one "
                "(openfr gallery uses NAME --use oifr --reason ...)"
            )
        if len(names) > 1:
            raise BadInputError(
                f"several galleries are approved for operator-initiated searches ({', '.join(names)}): choose one"
            )
        return names[0]


def _checked_grounds(grounds: str, details: str, location: str) -> tuple[str, str, str | None]:
    key = (grounds or "").strip().lower()
    if key not in GROUNDS:
        raise SafeguardMissingError(f"grounds must be one of: {', '.join(GROUNDS)}")
    words = (details or "").strip()
    if not words:
        raise SafeguardMissingError(
            "describe the grounds in your own words (details): they are recorded with the search"
        )
    if len(words) > DETAILS_MAX:
        raise BadInputError(f"the details are longer than {DETAILS_MAX} characters")
    where = (location or "").strip()
    if len(where) > LOCATION_MAX:
        raise BadInputError(f"the location is longer than {LOCATION_MAX} characters")
    return key, words, where or None
