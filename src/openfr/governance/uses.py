"""Purpose limitation: what a gallery's images may be used for.

A gallery carries a set of approved uses from this fixed list. Each door that reaches a gallery asks the
service layer, and the service refuses a use the gallery is not approved for: an officer's phone search
reaches only custody images approved for it, never a live watchlist or a case file; a deployment's watchlist
is drawn only from a gallery approved as a live source. A refusal is a state of the gallery, not of the
person asking, so it is a PurposeLimitationError (a ConflictError, HTTP 409, and a recorded refusal) that
names the uses the gallery does have.

Which uses a gallery has is a governance decision (a DPIA covers each): changing them takes `gallery.manage`
and a recorded reason. Whoever may enrol may create a gallery for retrospective search alone (the default);
approving it for anything else at creation takes `gallery.manage` too.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from openfr.errors import BadInputError, PurposeLimitationError


class GalleryUse(StrEnum):
    OIFR = "oifr"  # custody images searchable from an officer's phone (operator-initiated)
    RFR = "rfr"  # retrospective search by investigators (stills, CCTV)
    LIVE = "live"  # the source of live deployments' watchlists


DESCRIPTIONS: dict[GalleryUse, str] = {
    GalleryUse.OIFR: "Operator-initiated searches: custody images an officer may search from a phone.",
    GalleryUse.RFR: "Retrospective searches: investigators search stills and CCTV against it.",
    GalleryUse.LIVE: "Live deployments: watchlists are drawn from it when a deployment is authorised.",
}
# How a refusal names what was asked for: "gallery X is not approved for <this>".
ACTIVITY: dict[GalleryUse, str] = {
    GalleryUse.OIFR: "operator-initiated searches",
    GalleryUse.RFR: "retrospective searches",
    GalleryUse.LIVE: "live deployment watchlists",
}
DEFAULT_USES: tuple[GalleryUse, ...] = (GalleryUse.RFR,)  # a new gallery unless its creator says otherwise
# What a gallery could be used for before uses existed (migration 0014): never OIFR implicitly.
FORMER_USES: tuple[GalleryUse, ...] = (GalleryUse.RFR, GalleryUse.LIVE)
# The use a search mode needs (live matching is a deployment's, checked when it is planned).
MODE_USE: dict[str, GalleryUse] = {"RFR": GalleryUse.RFR, "OIFR": GalleryUse.OIFR}


def parse_uses(values: Iterable[str]) -> list[str]:
    """The uses, checked against the list, without repeats, in the list's order (so a stored set compares
    equal however it was typed). BadInputError names an unknown one. An empty set is allowed here: the
    callers decide whether a gallery may have no use at all."""
    chosen: set[GalleryUse] = set()
    for value in values:
        key = str(value).strip().lower()
        try:
            chosen.add(GalleryUse(key))
        except ValueError:
            known = ", ".join(u.value for u in GalleryUse)
            raise BadInputError(f"unknown gallery use '{str(value)[:40]}' (one of: {known})") from None
    return [u.value for u in GalleryUse if u in chosen]


def describe(uses: Iterable[str]) -> str:
    """For messages: "rfr, live", or "none"."""
    listed = list(uses)
    return ", ".join(listed) if listed else "none"


def require_use(gallery: str, uses: Iterable[str] | None, use: GalleryUse) -> None:
    """Refuse (PurposeLimitationError, 409) unless `use` is among the gallery's approved `uses`."""
    approved = list(uses or [])
    if use.value not in approved:
        raise PurposeLimitationError(
            f"gallery {gallery} is not approved for {ACTIVITY[use]} (its uses: {describe(approved)})"
        )


def check_gallery_use(session, gallery: str, use: GalleryUse) -> None:
    """Inside the caller's transaction: refuse (409) if the gallery named exists and is not approved for
    `use`. A gallery that does not exist is left to the caller, which says so in its own words."""
    from sqlalchemy import select

    from openfr.store import Gallery

    found = session.execute(select(Gallery.uses).where(Gallery.name == gallery)).first()
    if found is not None:
        require_use(gallery, found.uses, use)


def catalogue() -> list[dict]:
    """The list for pages and the API: key and description of each use."""
    return [{"key": u.value, "label": DESCRIPTIONS[u]} for u in GalleryUse]


def check_enrolment(gallery: str, uses: Iterable[str] | None, categories: Iterable[str | None]) -> None:
    """Refuse (PurposeLimitationError, 409) adding people to a gallery approved for no use at all (withdrawn:
    its images are kept, not added to), or giving them a watchlist category in a gallery that is not a live
    source: a category marks someone for live watchlists, and only a gallery approved for `live` feeds them."""
    approved = list(uses or [])
    if not approved:
        raise PurposeLimitationError(f"gallery {gallery} is approved for no use (withdrawn): nothing may be enrolled")
    marked = sorted({c for c in categories if c})
    if marked and GalleryUse.LIVE.value not in approved:
        raise PurposeLimitationError(
            f"gallery {gallery} is not approved as a live source (its uses: {describe(approved)}): the watchlist "
            f"categor{'y' if len(marked) == 1 else 'ies'} {', '.join(marked)} belong only in a live source; enrol "
            "without a category, or have the gallery approved for live"
        )
