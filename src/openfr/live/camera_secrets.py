"""Camera sources at rest: a camera URL often carries the camera's user name and password (or a token in its
query), so every URL source is stored sealed with the installation's SecretBox (the key outside the
database, as second factors are). A deployment's cameras are kept as
`[{"name": ..., "source": sealed URL, "where": scheme://host:port}]`: `where` is what every page shows,
and the URL is opened only where a camera connects (the runner asks for it just before each connection).
Video file names and webcam numbers hold no secret and stay as they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openfr.governance.secretbox import SecretBox, SecretKeyError, is_sealed
from openfr.live.camera_network import display_source
from openfr.store import Deployment


def _is_url(source: str) -> bool:
    return "://" in source and not is_sealed(source)


def stored_camera(name: str, source: str, box: SecretBox) -> dict[str, Any]:
    """A camera as a deployment stores it."""
    stored = box.seal(source) if _is_url(source) else source
    return {"name": name, "source": stored, "where": display_source(source)}


def where(camera: dict[str, Any]) -> str:
    """Where a stored camera is, as anyone may see it: scheme, host and port, never credentials."""
    return camera.get("where") or display_source(camera["source"])


def reveal(source: str, box: SecretBox) -> str:
    """A stored source as the camera connection needs it."""
    try:
        return box.open(source)
    except SecretKeyError:
        raise SecretKeyError(
            "a camera source does not open with this installation's secrets key (was the key replaced?): "
            "restore the key, or plan the deployment again with the camera's address"
        ) from None


def seal_plain_cameras(session: Session, box: SecretBox) -> int:
    """Seal the URL sources of deployments stored before camera sources were sealed; how many deployments
    changed."""
    changed = 0
    for deployment in session.scalars(select(Deployment)):
        cameras = deployment.cameras or []
        if any(not is_sealed(c["source"]) and (_is_url(c["source"]) or "where" not in c) for c in cameras):
            deployment.cameras = [
                c if is_sealed(c["source"]) else stored_camera(c["name"], c["source"], box) for c in cameras
            ]
            changed += 1
    return changed
