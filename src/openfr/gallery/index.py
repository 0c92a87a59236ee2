"""Vector indexes over one gallery's templates, behind one protocol.

- `ExactIndex`: every template scored (numpy over float16 or int8). Recall 1.0; cost grows with size.
- `HnswIndex`: usearch HNSW graph on int8 vectors, then the best `rerank` candidates re-scored exactly
  against float16 copies. Near-constant latency at millions of faces.
- PostgreSQL uses pgvector's HNSW instead (`gallery/pgvector.py`), so vectors stay in the database.

All return template ids and cosine scores, best first; grouping templates into subjects happens above.
"""

from __future__ import annotations

import json
from pathlib import Path
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

    def save(self, folder: Path) -> None: ...


def quantise_int8(vectors: np.ndarray) -> tuple[np.ndarray, float]:
    """Symmetric int8 with one scale for the gallery: unit-vector components rarely exceed 0.3."""
    scale = 127.0 / max(float(np.abs(vectors).max()), 1e-6)
    return np.clip(np.rint(vectors * scale), -127, 127).astype(np.int8), scale


class ExactIndex:
    """Brute force over float16 or int8 rows with usearch's SIMD kernels (numpy has no fast float16 or
    int8 matrix product), then the returned rows re-scored in float32."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, dtype: str = "float16"):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.size = len(self.ids)
        self.dtype = dtype
        if dtype == "int8":
            self.matrix, self.scale = quantise_int8(vectors)
        else:
            self.matrix, self.scale = vectors.astype(np.float16), 1.0

    def _quantise(self, query: np.ndarray) -> np.ndarray:
        if self.dtype == "int8":
            return np.clip(np.rint(query * self.scale), -127, 127).astype(np.int8)
        return query.astype(np.float16)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        from usearch.index import MetricKind
        from usearch.index import search as brute_force

        if self.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        k = min(k, self.size)
        found = brute_force(self.matrix, self._quantise(query), k, MetricKind.IP, exact=True, threads=1)
        rows = np.asarray(found.keys, dtype=np.int64)
        scores = self.matrix[rows].astype(np.float32) @ query.astype(np.float32) / self.scale
        order = np.argsort(-scores, kind="stable")
        return self.ids[rows[order]], scores[order]

    def nbytes(self) -> int:
        return self.matrix.nbytes + self.ids.nbytes

    def save(self, folder: Path) -> None:
        np.save(folder / "ids.npy", self.ids)
        np.save(folder / "exact.npy", self.matrix)
        (folder / "exact.json").write_text(json.dumps({"dtype": self.dtype, "scale": self.scale}))

    @classmethod
    def load(cls, folder: Path) -> ExactIndex:
        meta = json.loads((folder / "exact.json").read_text())
        index = cls.__new__(cls)
        index.ids = np.load(folder / "ids.npy")
        index.matrix = np.load(folder / "exact.npy", mmap_mode="r")
        index.size, index.dtype, index.scale = len(index.ids), meta["dtype"], meta["scale"]
        return index


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
        exact: np.ndarray | None = None,
    ):
        """`exact` holds the float16 rows used for re-ranking (row i = template ids[i]); pass a memory-mapped
        file to keep them out of RAM: only the few rows each query re-ranks are ever read."""
        from usearch.index import Index

        self.ids = np.asarray(ids, dtype=np.int64)
        self.size = len(self.ids)
        self.rerank = rerank
        self.exact = vectors.astype(np.float16) if exact is None else exact
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
        rows = np.sort(np.asarray(found.keys, dtype=np.int64))  # sorted reads suit a memory-mapped store
        # Re-rank: the int8 graph finds the neighbourhood; the float16 copies decide the order and scores.
        scores = self.exact[rows].astype(np.float32) @ query.astype(np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return self.ids[rows[order]], scores[order]

    def nbytes(self) -> int:
        in_memory_exact = 0 if isinstance(self.exact, np.memmap) else self.exact.nbytes
        return int(self.index.memory_usage) + in_memory_exact + self.ids.nbytes

    def save(self, folder: Path) -> None:
        np.save(folder / "ids.npy", self.ids)
        np.save(folder / "rerank.npy", np.asarray(self.exact, dtype=np.float16))
        self.index.save(str(folder / "graph.usearch"))
        (folder / "hnsw.json").write_text(json.dumps({"rerank": self.rerank}))

    @classmethod
    def load(cls, folder: Path) -> HnswIndex:
        """Memory-map a saved index: opening a million-face gallery costs milliseconds, not a rebuild."""
        from usearch.index import Index

        index = cls.__new__(cls)
        index.ids = np.load(folder / "ids.npy")
        index.size = len(index.ids)
        index.rerank = json.loads((folder / "hnsw.json").read_text())["rerank"]
        index.exact = np.load(folder / "rerank.npy", mmap_mode="r")
        index.index = Index.restore(str(folder / "graph.usearch"), view=True)
        return index


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
