"""image -> [Face(box, landmarks, quality, embedding)]: the one pipeline every mode uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openfr.engine.detect import Detector
from openfr.engine.embed import Embedder
from openfr.engine.packs import ModelCard, get_pack
from openfr.engine.quality import assess
from openfr.errors import ConfigurationError, NoFaceError
from openfr.settings import QualitySettings, Settings
from openfr.types import Embedding, Face


@dataclass
class FaceEngine:
    detector: Detector
    embedder: Embedder
    quality: QualitySettings
    card: ModelCard
    space: str
    threshold: float

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces with box, landmarks and quality; no embeddings (cheap)."""
        faces = self.detector.detect(image)
        for face in faces:
            face.quality = assess(face, self.embedder.crop(image, face), self.quality)
        return faces

    def analyse(self, image: np.ndarray) -> list[Face]:
        """Faces with quality and embeddings (all faces, usable or not: the caller applies the gate)."""
        return self.analyse_many([image])[0]

    def analyse_many(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Like `analyse` for several images, embedding all their faces in shared batches."""
        per_image: list[list[Face]] = []
        crops: list[np.ndarray] = []
        owners: list[Face] = []
        for image in images:
            faces = self.detector.detect(image)
            for face in faces:
                crop = self.embedder.crop(image, face)
                face.quality = assess(face, crop, self.quality)
                crops.append(crop)
                owners.append(face)
            per_image.append(faces)
        for face, vector in zip(owners, self.embedder.embed(crops), strict=True):
            face.embedding = Embedding(self.space, vector)
        return per_image

    def analyse_largest(self, image: np.ndarray) -> list[Face]:
        """Every face with its quality, but only the largest (the first: faces come sorted) embedded: what a
        search needs, which searches the largest face and only draws the others. Each embedding costs about
        20 ms on one core, so a photo with bystanders no longer costs one per face (the wheel's team photo at
        12 MP: 145 faces found, 2.9 s with every one embedded, 0.23 s with one; docs/benchmarks.md)."""
        faces = self.detector.detect(image)
        crops = []
        for face in faces:
            crop = self.embedder.crop(image, face)
            face.quality = assess(face, crop, self.quality)
            crops.append(crop)
        if faces:
            faces[0].embedding = Embedding(self.space, self.embedder.embed(crops[:1])[0])
        return faces

    def probe(self, image: np.ndarray, *, name: str = "image", require_usable: bool = True) -> Face:
        """The main face of a probe photo: the largest (faces come sorted), usable unless told otherwise."""
        faces = self.analyse_largest(image)
        if not faces:
            raise NoFaceError(f"{name}: no face found")
        face = faces[0]
        if require_usable and face.quality is not None and not face.quality.usable:
            raise NoFaceError(f"{name}: face not usable ({'; '.join(face.quality.reasons)})")
        return face

    def similarity(self, a: Face, b: Face) -> float:
        assert a.embedding is not None and b.embedding is not None
        return a.embedding.similarity(b.embedding)


def load_engine(settings: Settings, pack_id: str | None = None) -> FaceEngine:
    """Resolve the pack, verify its files, apply the licence policy and build the engine."""
    pack = get_pack(settings, pack_id)
    detector, embedder, space = pack.build(settings)
    threshold = pack.card.threshold
    if settings.match_threshold is not None:
        # The calibrated threshold is a floor, not a default: a setting may only raise it.
        if not settings.match_threshold >= pack.card.threshold:
            raise ConfigurationError(
                f"match_threshold {settings.match_threshold} is below {pack.card.id}'s calibrated "
                f"{pack.card.threshold:.3f}, which is the lowest openfr accepts"
            )
        threshold = settings.match_threshold
    return FaceEngine(detector, embedder, settings.quality, pack.card, space, threshold)
