"""The scene frame kept with an alert: where the person was and what was around them, for the operator who
decides and for the record, and nothing about anyone else.

Only an alert keeps a scene frame (a frame in which no one matched is never written). In it the matched face
is outlined, and every other face the detector found is pixelated before the frame leaves memory: a
passer-by's face must never reach disk. Faces too small for the detector (`live.min_face_px`) are not
found and so not pixelated; at the stored size they are a few pixels wide.
"""

from __future__ import annotations

import cv2
import numpy as np

from openfr.types import Face

# Longest side of the stored frame. Larger shows more detail of clothing and surroundings (and of anyone
# the detector missed) and costs disk and time on the camera's thread; 960 px keeps a 1080p scene readable
# on a control-room screen at ~100 kB per alert.
SCENE_MAX_SIDE = 960
# A pixelated face (with its margin) is this many blocks across: too few to recognise anyone or to be
# detected as a face (at 5 the detector still found one of the sixteen in the team photo).
PIXEL_BLOCKS = 4
# Share of a face box added on each side before pixelating (hair, ears and jaw identify people too).
PIXEL_MARGIN = 0.25
OUTLINE_RGB = (255, 176, 0)  # amber: visible on skin, dark clothes and bright sky alike


def scene_frame(image: np.ndarray, faces: list[Face], matched: Face, max_side: int = SCENE_MAX_SIDE) -> np.ndarray:
    """`image` (RGB) scaled down to at most `max_side` on its longest side, every face in `faces` but
    `matched` pixelated, `matched` outlined. The input frame is not changed."""
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    scene = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else image.copy()
    for face in faces:
        if face is not matched:
            _pixelate(scene, _scaled(face.box, scale, PIXEL_MARGIN, scene.shape))
    left, top, right, bottom = _scaled(matched.box, scale, 0.15, scene.shape)
    thickness = max(2, round(max(size) / 320))
    cv2.rectangle(scene, (left, top), (right, bottom), OUTLINE_RGB, thickness)
    return np.ascontiguousarray(scene)


def _scaled(box, scale: float, margin: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (float(v) * scale for v in box)
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    height, width = shape[:2]
    return (
        max(0, int(x1 - dx)),
        max(0, int(y1 - dy)),
        min(width, int(np.ceil(x2 + dx))),
        min(height, int(np.ceil(y2 + dy))),
    )


def _pixelate(scene: np.ndarray, region: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = region
    if right - left < 1 or bottom - top < 1:
        return
    patch = scene[top:bottom, left:right]
    across = max(1, min(PIXEL_BLOCKS, right - left))
    down = max(1, round(across * (bottom - top) / (right - left)))
    small = cv2.resize(patch, (across, down), interpolation=cv2.INTER_AREA)
    scene[top:bottom, left:right] = cv2.resize(small, (right - left, bottom - top), interpolation=cv2.INTER_NEAREST)
