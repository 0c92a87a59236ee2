"""ArcFace-style ONNX embedders: aligned 112x112 crop in, L2-normalised vector out."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from openfr.engine.align import CROP_SIZE, align_face
from openfr.engine.onnx import make_session
from openfr.types import Face


class Embedder(Protocol):
    dim: int

    def crop(self, image: np.ndarray, face: Face) -> np.ndarray:
        """The aligned face crop this embedder expects (also what quality is measured on)."""
        ...

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N, dim) float32, each row L2-normalised."""
        ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class ArcFaceEmbedder:
    """Runs an ArcFace ONNX model (InsightFace layout: NCHW RGB, (x - 127.5) / 127.5) in batches."""

    def __init__(
        self, model: Path, *, threads: int, providers: list[str] | None, batch_size: int = 32, spinning: bool = True
    ):
        self.session = make_session(model, threads=threads, providers=providers, spinning=spinning)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.size = inp.shape[2] if isinstance(inp.shape[2], int) else CROP_SIZE
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        # Some exports fix the batch dimension to 1; then we feed one crop at a time.
        self.batch_size = batch_size if not isinstance(inp.shape[0], int) else int(inp.shape[0])

    def crop(self, image: np.ndarray, face: Face) -> np.ndarray:
        return align_face(image, face.landmarks, self.size)

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(crops), self.batch_size):
            batch = np.stack(crops[start : start + self.batch_size]).astype(np.float32)
            blob = ((batch - 127.5) / 127.5).transpose(0, 3, 1, 2)
            out.append(self.session.run(None, {self.input_name: blob})[0])
        return l2_normalise(np.concatenate(out).reshape(len(crops), -1))
