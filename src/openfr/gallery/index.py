"""Vector indexes over one gallery's templates, behind one protocol.

- `ExactIndex`: every template scored (numpy over float16 or int8). Recall 1.0; cost grows with size.
- `HnswIndex`: usearch HNSW graph on int8 vectors, then the best `rerank` candidates re-scored exactly
  against float16 copies. Near-constant latency at millions of faces.
- PostgreSQL uses pgvector's HNSW instead (`gallery/pgvector.py`), so vectors stay in the database.

All return template ids and cosine scores, best first; grouping templates into subjects happens above.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class VectorIndex(Protocol):
    size: int

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(template ids, scores) of the k best templates, best first."""
        ...

    def nbytes(self) -> int:
        """Memory held for vectors and graph."""
        ...


def quantise_int8(vectors: np.ndarray) -> tuple[np.ndarray, float]:
    """Symmetric int8 with one scale for the gallery: unit-vector components rarely exceed 0.3."""
    scale = 127.0 / max(float(np.abs(vectors).max()), 1e-6)
    return np.clip(np.rint(vectors * scale), -127, 127).astype(np.int8), scale


class ExactIndex:
    def __init__(self, ids: np.ndarray, vectors: np.ndarray, dtype: str = "float16"):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.size = len(self.ids)
        self.dtype = dtype
        if dtype == "int8":
            self.matrix, self.scale = quantise_int8(vectors)
        else:
            self.matrix, self.scale = vectors.astype(np.float16), 1.0

    def scores(self, query: np.ndarray) -> np.ndarray:
        if self.dtype == "int8":
            q8 = np.clip(np.rint(query * self.scale), -127, 127).astype(np.int32)
            return (self.matrix @ q8.astype(np.int8).astype(np.float32)) / (self.scale * self.scale)
        return self.matrix @ query.astype(np.float16)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores = self.scores(query).astype(np.float32)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return self.ids[top], scores[top]

    def nbytes(self) -> int:
        return self.matrix.nbytes + self.ids.nbytes


class HnswIndex:
    def __init__(
        self,
        ids: np.ndarray,
        vectors: np.ndarray,
        *,
        connectivity: int = 16,
        expansion_search: int = 128,
        rerank: int = 100,
        threads: int = 0,
    ):
        from usearch.index import Index

        self.ids = np.asarray(ids, dtype=np.int64)
        self.size = len(self.ids)
        self.rerank = rerank
        self.exact = vectors.astype(np.float16)  # row i <-> key i
        self.index = Index(
            ndim=vectors.shape[1],
            metric="cos",
            dtype="i8",
            connectivity=connectivity,
            expansion_search=expansion_search,
        )
        if self.size:
            self.index.add(np.arange(self.size, dtype=np.uint64), vectors.astype(np.float32), threads=threads)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        found = self.index.search(query.astype(np.float32), min(max(k, self.rerank), self.size))
        rows = np.asarray(found.keys, dtype=np.int64)
        # Re-rank: the int8 graph finds the neighbourhood; the float16 copies decide the order and scores.
        scores = (self.exact[rows] @ query.astype(np.float16)).astype(np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return self.ids[rows[order]], scores[order]

    def nbytes(self) -> int:
        return int(self.index.memory_usage) + self.exact.nbytes + self.ids.nbytes


def build_index(ids: np.ndarray, vectors: np.ndarray, settings) -> VectorIndex:
    """Exact below `gallery.exact_max_size` templates, HNSW above it."""
    cfg = settings.gallery
    if len(ids) <= cfg.exact_max_size:
        return ExactIndex(ids, vectors, cfg.exact_dtype)
    return HnswIndex(
        ids,
        vectors,
        connectivity=cfg.hnsw_connectivity,
        expansion_search=cfg.hnsw_expansion_search,
        rerank=cfg.rerank,
    )
