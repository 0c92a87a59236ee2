"""Synthetic camera clips made from still photos (a slow pan across each), for tests and the demo on a
machine without real footage. Encoded with FFmpeg's built-in MPEG-4 Part 2 encoder, which every PyAV build
carries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def pan_frames(image: np.ndarray, *, frames: int, size: tuple[int, int], zoom: float = 1.15) -> list[np.ndarray]:
    """`frames` views (width, height = size) drifting across `image`, slightly zoomed so the view can move."""
    width, height = size
    h, w = image.shape[:2]
    scale = max(width / w, height / h) * zoom
    big = np.asarray(Image.fromarray(image).resize((round(w * scale), round(h * scale)), Image.BILINEAR))
    span_x, span_y = big.shape[1] - width, big.shape[0] - height
    out = []
    for i in range(frames):
        t = i / max(frames - 1, 1)
        x, y = round(span_x * t), round(span_y * (0.5 - abs(t - 0.5)))
        out.append(np.ascontiguousarray(big[y : y + height, x : x + width]))
    return out


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 25, *, bitrate: int = 2_000_000) -> Path:
    """Encode RGB frames (all the same size, even dimensions) into an MPEG-4 file readable by any player."""
    import av

    height, width = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt, stream.bit_rate = width, height, "yuv420p", bitrate
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def clip_from_photos(
    path: Path,
    photos: list[np.ndarray],
    *,
    seconds_each: float = 2.0,
    fps: int = 25,
    size: tuple[int, int] = (1280, 720),
    blank_between: float = 0.0,
) -> Path:
    """A clip panning across each photo in turn, optionally separated by grey frames (no faces), so that
    people in different photos never share a track."""
    frames: list[np.ndarray] = []
    for i, photo in enumerate(photos):
        if i and blank_between:
            frames += [np.full((size[1], size[0], 3), 128, np.uint8)] * round(blank_between * fps)
        frames += pan_frames(photo, frames=round(seconds_each * fps), size=size)
    return write_clip(path, frames, fps)
