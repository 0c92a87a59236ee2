"""Builds self-contained galleries from the sample photos in the model wheel (real faces, no ../shared)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance


def team_faces(engine, samples) -> list[tuple[int, int, int, int]]:
    """Boxes (x1, y1, x2, y2) of the usable faces in the team photo, left to right."""
    faces = [f for f in engine.detect(samples["players"]) if f.quality.usable]
    return sorted((tuple(int(v) for v in f.box) for f in faces), key=lambda b: b[0])


def crop(image: Image.Image, box, scale: float = 2.4, shift=(0, 0), size: int = 160) -> Image.Image:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2 + shift[0], (y1 + y2) / 2 + shift[1]
    half = max(x2 - x1, y2 - y1) * scale / 2
    return image.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half))).resize((size, size))


def build_team_gallery(root: Path, engine, samples, sample_paths, *, variants: int = 2) -> dict[str, object]:
    """DIR/<subject>/<images>: one subject per team member, `variants` distinct photos each.

    Returns the folder and the subject id of Yao Ming (the person in the yaoming.jpg probe).
    """
    team = Image.open(sample_paths["players"]).convert("RGB")
    probe = engine.probe(samples["yaoming"])
    boxes = team_faces(engine, samples)
    rng = np.random.default_rng(7)
    yao = None
    best = -1.0
    for i, box in enumerate(boxes):
        subject = f"P{i:03d}"
        folder = root / subject
        folder.mkdir(parents=True)
        for v in range(variants):
            img = crop(team, box, scale=2.2 + 0.4 * rng.random(), shift=tuple(rng.integers(-4, 5, 2)))
            img = ImageEnhance.Brightness(img).enhance(0.85 + 0.3 * rng.random())
            img.save(folder / f"{v:03d}.png")
        face = engine.probe(np.asarray(crop(team, box)), require_usable=False)
        score = engine.similarity(probe, face)
        if score > best:
            best, yao = score, subject
    return {"dir": root, "yao": yao, "subjects": len(boxes)}
