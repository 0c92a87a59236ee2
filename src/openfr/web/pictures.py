"""Pictures for console pages, made in memory: the search probe as an inline JPEG with its face boxes, and
thumbnails of enrolled images.

The probe must never reach disk, so it travels back inside the page itself (a `data:` URI, allowed by the
CSP's `img-src 'self' data:`) and its boxes are drawn by the browser as SVG over it, in the picture's own
coordinates: nothing is cached, nothing is written, and the picture goes when the page does. Thumbnails are
re-encoded small on every request rather than kept as files: one more copy of a face on disk would be one
more copy to find and erase when the subject is deleted.

Every image of a face that a console page or the API sends (a stored file or a thumbnail) goes with
`Cache-Control: no-store, private`, from here: each look is for the one who asked, and is recorded.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi.responses import FileResponse, Response
from PIL import Image

from openfr.imageio import load_image
from openfr.settings.engine import QualitySettings

PROBE_SIDE = 720  # longest side of the probe as drawn: enough to judge a face box, small enough to inline
PROBE_QUALITY = 82  # JPEG quality of the inline probe: ~60-120 kB of base64 at PROBE_SIDE
THUMB_SIDE = 192  # longest side of a thumbnail: sharp at 96 CSS px on a 2x phone screen
PRIVATE = {"Cache-Control": "no-store, private"}  # no browser or proxy keeps a copy of a face


@dataclass(frozen=True)
class FaceBox:
    number: int  # 1 = the face searched (the largest), then the others as the detector found them
    x: float
    y: float
    width: float
    height: float
    searched: bool
    usable: bool


@dataclass(frozen=True)
class ProbeView:
    """The probe as the page draws it: the picture, its size, and the faces' boxes in that picture."""

    data_uri: str
    width: int
    height: int
    boxes: list[FaceBox]

    @property
    def label_size(self) -> float:
        """Font size of the box numbers, in picture units: about 1/40 of the longer side (legible once the
        picture is scaled to the page, not so large that a crowd's numbers hide its faces)."""
        return round(max(10.0, max(self.width, self.height) / 40), 1)


def probe_view(image: np.ndarray, faces: list[dict], *, side: int = PROBE_SIDE) -> ProbeView:
    """`image` (RGB, as searched) shrunk to at most `side` and encoded as an inline JPEG; `faces`' boxes
    (from the search result, in `image`'s pixels) scaled to match and clipped to the picture."""
    height, width = image.shape[:2]
    scale = min(1.0, side / max(width, height))
    picture = Image.fromarray(image)
    if scale < 1.0:
        picture = picture.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=PROBE_QUALITY)
    uri = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    ordered = sorted(faces, key=lambda f: not f["searched"])  # the searched face is number 1
    boxes = []
    for number, face in enumerate(ordered, 1):
        x1, y1, x2, y2 = (v * scale for v in face["box"])
        x1, y1 = max(0.0, x1), max(0.0, y1)
        x2, y2 = min(picture.width, x2), min(picture.height, y2)
        usable = bool(face.get("quality", {}).get("usable", True))
        box = FaceBox(
            number, round(x1, 1), round(y1, 1), round(x2 - x1, 1), round(y2 - y1, 1), face["searched"], usable
        )
        boxes.append(box)
    return ProbeView(uri, picture.width, picture.height, boxes)


def quality_notes(quality: dict, limits: QualitySettings) -> list[str]:
    """The searched face's measurements in words, each beside the limit the quality gate applies."""
    if "face_px" not in quality:  # a pack that does not measure quality
        return []
    return [
        f"Face {quality['face_px']:.0f} px across; eyes {quality['inter_eye_px']:.0f} px apart "
        f"(at least {limits.min_inter_eye_px:g} needed).",
        f"Sharpness {quality['blur']:.0f} (at least {limits.min_blur:g} needed).",
        f"Turned {abs(quality['yaw']):.0f}° (at most {limits.max_yaw:g}°), tilted up or down "
        f"{abs(quality['pitch']):.0f}° (at most {limits.max_pitch:g}°), head leaning {abs(quality['roll']):.0f}°.",
        f"Detector confidence {quality['det_score']:.2f} (at least {limits.min_det_score:g} needed).",
    ]


def thumbnail_jpeg(path: Path, *, side: int = THUMB_SIDE, max_pixels: int = 40_000_000) -> bytes:
    """A small JPEG of a stored image, made in memory (JPEGs are decoded straight at a reduced size)."""
    image = load_image(path, max_pixels=max_pixels, working_pixels=side * side * 4)
    picture = Image.fromarray(image)
    picture.thumbnail((side, side), Image.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def private_file(path: Path) -> FileResponse:
    """A stored image of a face (enrolled, on a watchlist, an alert's crop or scene) as it is, never cached."""
    return FileResponse(path, headers=PRIVATE)


def private_thumbnail(path: Path, *, max_pixels: int) -> Response:
    """A thumbnail of a stored image (see `thumbnail_jpeg`), never cached."""
    return Response(thumbnail_jpeg(path, max_pixels=max_pixels), media_type="image/jpeg", headers=PRIVATE)
