"""Looks at faces, recorded once per page: the page view is the audit event, and it lists what it shows.

Every face openfr shows someone is on record. Recording each image as it is fetched made one gallery page 45
events and most of the trail image views; so a page that shows faces (a gallery page, the faces of a plan's
watchlist, alert cards, search results) records ONE event naming what it put on the screen, and hands the
page a grant for each of those images: a short-lived signature bound to the person, the kind of image and
its key. An image fetched with a valid grant was recorded with its page; one fetched without (an API client
asking for a face on its own) is recorded on its own, as before.

The grant is an HMAC under a key derived from the installation's secrets key (never stored), so a grant
cannot be made by hand, moved to another person, or stretched past `GRANT_S`.
"""

from __future__ import annotations

import hashlib
import hmac
import time

GRANT_S = 12 * 3600  # a console page left open for a shift can still show its pictures


class ViewGrants:
    def __init__(self, key: bytes, lifetime_s: float = GRANT_S):
        self._key, self.lifetime_s = key, lifetime_s

    def _sign(self, who: str, kind: str, item: str, until: int) -> str:
        message = "\0".join((who, kind, item, str(until))).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def grant(self, who: str, kind: str, *item: object) -> str:
        """The grant for the account `who` to fetch the image of `kind` keyed by `item` (gallery, subject...)."""
        until = int(time.time() + self.lifetime_s)
        return f"{until}.{self._sign(who, kind, _key(item), until)}"

    def covers(self, grant: str | None, who: str, kind: str, *item: object) -> bool:
        """Whether `grant` was made for this person, this image, and has not expired."""
        if not grant or "." not in grant or len(grant) > 64:
            return False
        until, _, signature = grant.partition(".")
        if not until.isdigit() or int(until) < time.time():
            return False
        expected = self._sign(who, kind, _key(item), int(until))
        return hmac.compare_digest(signature, expected)


def _key(item: tuple[object, ...]) -> str:
    return "\0".join(str(part) for part in item)
