"""Synthetic galleries whose similarity statistics match real faces, for benchmarks at custody scale.

Real embeddings are not uniformly spread on the sphere: they share a mean direction and a few dominant
axes, which is what makes impostor scores sit around 0 with a spread of about 0.07 rather than the 0.044
of random 512-d vectors, and what makes HNSW search harder or easier. We fit a Gaussian (mean and full
covariance) to real embeddings of `../shared/data` and sample from it; only these aggregate statistics
are kept, never anyone's embedding. Mates are planted at an exact cosine similarity chosen in each band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BANDS = ((0.3, 0.6), (0.6, 0.8), (0.8, 0.95))


@dataclass
class FaceStatistics:
    mean: np.ndarray  # (d,)
    factor: np.ndarray  # (d, d): covariance = factor @ factor.T
    source: str

    @classmethod
    def fit(cls, vectors: np.ndarray, source: str) -> FaceStatistics:
        mean = vectors.mean(axis=0)
        cov = np.cov(vectors - mean, rowvar=False)
        eigvals, eigvecs = np.linalg.eigh(cov)
        factor = eigvecs * np.sqrt(np.clip(eigvals, 0, None))
        return cls(mean.astype(np.float32), factor.astype(np.float32), source)

    def sample(self, n: int, rng: np.random.Generator, chunk: int = 200_000) -> np.ndarray:
        d = self.mean.shape[0]
        out = np.empty((n, d), dtype=np.float32)
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            z = rng.standard_normal((stop - start, d), dtype=np.float32)
            block = self.mean + z @ self.factor.T
            out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out

    def save(self, path) -> None:
        np.savez(path, mean=self.mean, factor=self.factor, source=np.array(self.source))

    @classmethod
    def load(cls, path) -> FaceStatistics:
        data = np.load(path)
        return cls(data["mean"], data["factor"], str(data["source"]))


def plant_mate(probe: np.ndarray, similarity: float, noise: np.ndarray) -> np.ndarray:
    """A unit vector at exactly `similarity` cosine to `probe`, in the direction of `noise` otherwise."""
    orth = noise - (noise @ probe) * probe
    orth /= np.linalg.norm(orth)
    mate = similarity * probe + np.sqrt(1.0 - similarity**2) * orth
    return (mate / np.linalg.norm(mate)).astype(np.float32)


def impostor_stats(vectors: np.ndarray, rng: np.random.Generator, pairs: int = 200_000) -> dict[str, float]:
    """Mean, spread and tail of cosine scores between random distinct rows."""
    a = rng.integers(0, len(vectors), pairs)
    b = rng.integers(0, len(vectors), pairs)
    keep = a != b
    scores = np.einsum("ij,ij->i", vectors[a[keep]], vectors[b[keep]])
    return {
        "mean": float(scores.mean()),
        "std": float(scores.std()),
        "p99": float(np.percentile(scores, 99)),
        "p99.9": float(np.percentile(scores, 99.9)),
    }
