"""What a gallery may be used for (purpose limitation, governance/uses.py): the base of GalleryService, split
out for size (it needs only the database, which UseCases takes). Approving a use is a governance decision (a
DPIA covers each), so it takes `gallery.manage` and a recorded reason; the searches and the deployment plans
that rely on it check it in their own services."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from openfr.errors import BadInputError, SafeguardMissingError
from openfr.gallery import repository
from openfr.governance import audit, events
from openfr.governance.permissions import Permission
from openfr.governance.uses import DEFAULT_USES, GalleryUse, catalogue, describe, parse_uses
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases
from openfr.store import Gallery

REASON_MAX = 2000  # characters, as for a purpose


class GalleryUses(UseCases):
    use_case_prefix = "galleries"

    def use_catalogue(self) -> list[dict]:
        """Every use a gallery may be approved for, with its description (for forms and the API)."""
        return catalogue()

    def uses_for_new_gallery(self, principal: Principal, uses: Iterable[str] | None) -> list[str]:
        """The checked uses of a gallery about to be created: the default unless given, at least one, and
        anything beyond the default only for someone who may approve uses (gallery.manage)."""
        chosen = parse_uses(DEFAULT_USES if uses is None else uses)
        if not chosen:
            raise BadInputError(f"choose at least one use for the gallery ({describe(u.value for u in GalleryUse)})")
        if set(chosen) - {u.value for u in DEFAULT_USES}:
            principal.require(Permission.GALLERY_MANAGE)
        return chosen

    def set_uses(self, principal: Principal, name: str, uses: Iterable[str], reason: str) -> dict:
        """Approve the gallery for exactly `uses` (none at all withdraws it from every use while keeping its
        images). The reason is required and recorded with the old and new uses. Setting the uses it has
        already changes nothing and records nothing (`changed` False).

        A deployment already authorised keeps the snapshot it took; withdrawing `live` stops new plans and
        authorisations from drawing on the gallery."""
        principal.require(Permission.GALLERY_MANAGE)
        chosen = parse_uses(uses)
        why = (reason or "").strip()
        if not why:
            raise SafeguardMissingError("say why the gallery's uses change (reason): it is recorded")
        if len(why) > REASON_MAX:
            raise BadInputError(f"the reason is longer than {REASON_MAX} characters")
        with self.db().transaction() as session:
            gallery = repository.get_gallery(session, name, for_update=True)
            before = list(gallery.uses or [])
            if set(before) == set(chosen):
                return {"name": gallery.name, "uses": chosen, "previous": before, "changed": False}
            gallery.uses = chosen
            audit.record(
                session,
                principal.username,
                events.GalleryUses(
                    uses=chosen,
                    previous=before,
                    added=sorted(set(chosen) - set(before)),
                    removed=sorted(set(before) - set(chosen)),
                ),
                f"gallery:{gallery.name}",
                why,
            )
            return {"name": gallery.name, "uses": chosen, "previous": before, "changed": True}


def approved_galleries(session, use: GalleryUse) -> list[str]:
    """Inside the caller's transaction: the names of the galleries whose uses include `use`, by name. JSON
    is filtered in Python: portable across SQLite and PostgreSQL, and galleries are few."""
    rows = session.execute(select(Gallery.name, Gallery.uses).order_by(Gallery.name))
    return [name for name, uses in rows if use.value in (uses or [])]
