"""The central data types that flow through every stage: detect -> align -> quality -> embed -> match.

Like supervision's `Detections`, one `Face` travels through the whole engine and gains fields as it goes;
nothing downstream re-derives what an earlier stage measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Embedding:
    """A face template: an L2-normalised vector and the *space* (model pack + weights) that made it.

    Scores between embeddings of different spaces are meaningless, so `similarity` refuses them.
    """

    space: str
    vector: np.ndarray

    def similarity(self, other: Embedding) -> float:
        from openfr.errors import EmbeddingSpaceError

        if self.space != other.space:
            raise EmbeddingSpaceError(
                f"cannot compare embeddings from different model packs ({self.space} vs {other.space})"
            )
        return float(np.dot(self.vector, other.vector))


@dataclass(frozen=True, slots=True)
class Quality:
    """Measurements that decide whether a face is fit to search with, and why not if it is not."""

    face_px: float  # shorter side of the detection box, in source-image pixels
    inter_eye_px: float  # distance between the eye centres, in source-image pixels
    blur: float  # variance of the Laplacian on the aligned crop; low means blurred
    yaw: float  # degrees, coarse estimate from landmarks (0 = frontal)
    pitch: float  # degrees, coarse estimate from landmarks
    roll: float  # degrees, angle of the eye line
    det_score: float
    reasons: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict[str, Any]:
        return {
            "usable": self.usable,
            "reasons": list(self.reasons),
            "face_px": round(self.face_px, 1),
            "inter_eye_px": round(self.inter_eye_px, 1),
            "blur": round(self.blur, 1),
            "yaw": round(self.yaw, 1),
            "pitch": round(self.pitch, 1),
            "roll": round(self.roll, 1),
            "det_score": round(self.det_score, 4),
        }


@dataclass(slots=True)
class Face:
    """One detected face in one image.

    `landmarks` are five (x, y) points in source-image pixels. Their order depends on `landmark_scheme`:
    ``"scrfd5"``: left eye, right eye, nose tip, left mouth corner, right mouth corner (as seen in the image);
    ``"dlib5"``: dlib's 5-point model (two corners of each eye, base of the nose).
    """

    box: np.ndarray  # (4,) float32: x1, y1, x2, y2
    score: float
    landmarks: np.ndarray  # (5, 2) float32
    landmark_scheme: str = "scrfd5"
    quality: Quality | None = None
    embedding: Embedding | None = None

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def eye_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(left-in-image, right-in-image) eye centres, whatever the landmark scheme."""
        if self.landmark_scheme == "dlib5":
            a = self.landmarks[0:2].mean(axis=0)
            b = self.landmarks[2:4].mean(axis=0)
        else:
            a, b = self.landmarks[0], self.landmarks[1]
        return (a, b) if a[0] <= b[0] else (b, a)

    def nose(self) -> np.ndarray:
        return self.landmarks[4] if self.landmark_scheme == "dlib5" else self.landmarks[2]

    def as_dict(self, *, with_embedding: bool = False, ndigits: int = 6) -> dict[str, Any]:
        out: dict[str, Any] = {
            "box": [round(float(v), 1) for v in self.box],
            "score": round(self.score, 4),
            "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in self.landmarks],
        }
        if self.quality is not None:
            out["quality"] = self.quality.as_dict()
        if with_embedding and self.embedding is not None:
            out["space"] = self.embedding.space
            out["embedding"] = [round(float(v), ndigits) for v in self.embedding.vector]
        return out
