"""Vector indexes over one gallery's templates, behind one protocol.

- `ExactIndex`: every template scored (numpy over float16 or int8). Recall 1.0; cost grows with size.
- `BinaryIndex` (default for large galleries): sign-bit codes scanned in full by a native kernel, the
  nearest `rerank` re-scored on int8 vectors. Linear but tiny per face; recall does not depend on structure.
- `HnswIndex`: usearch HNSW graph on int8 vectors, then the best `rerank` candidates re-scored exactly
  against float16 copies. Sub-linear, but measured to lose low-similarity mates on face embeddings.
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


class BinaryIndex:
    """Sign-bit codes scanned exhaustively, then the nearest `rerank` rows re-scored on int8 vectors.

    Each face keeps 64 bytes of code (the sign of each component after subtracting the gallery mean) and
    512 bytes of int8 vector: 576 bytes in memory. Face embeddings have little local structure (impostors all
    sit near similarity 0), which defeats graph indexes for low-similarity mates; a full scan of compact codes
    does not depend on structure, and a mate at cosine 0.3 differs in about 40% of its bits where impostors
    differ in 50% +- 2.2%, so it lands among the nearest few hundred codes even in ten million.
    """

    def __init__(self, ids: np.ndarray, vectors: np.ndarray | None = None, *, rerank: int = 400, mean=None):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.size = len(self.ids)
        self.rerank = rerank
        self.exact: np.ndarray | None = None
        if vectors is not None:
            self.mean = vectors.mean(axis=0).astype(np.float32) if mean is None else mean
            self.rotation = random_rotation(vectors.shape[1])
            self.codes = sign_codes(vectors, self.mean, self.rotation)
            self.matrix, self.scale = quantise_int8(vectors)
            self.exact = vectors.astype(np.float16)

    @classmethod
    def from_parts(
        cls, ids, codes, matrix, scale: float, mean, rotation, rerank: int = 400, exact: np.ndarray | None = None
    ) -> BinaryIndex:
        """`exact`: float16 rows (row i = ids[i]) for the final ordering; a memory-mapped file keeps them out
        of RAM, since only a few dozen rows are read per query."""
        index = cls(ids, rerank=rerank)
        index.codes, index.matrix, index.scale, index.mean, index.rotation = codes, matrix, scale, mean, rotation
        index.exact = exact
        return index

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        from openfr.gallery.hamming import asymmetric_scores, hamming_scan, rerank_scores, rows_within

        if self.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        projected = ((query - self.mean) @ self.rotation.T).astype(np.float32)
        distances = np.empty(self.size, dtype=np.uint16)
        hamming_scan(self.codes, pack_signs(projected[None, :] > 0)[0], distances)
        # Three stages, each more precise and run on fewer faces: Hamming on every code, the query's own
        # projections on a shortlist, int8 vectors on the best `rerank` (then float16 on the last few).
        wanted = max(k, self.rerank)
        shortlist = rows_within(distances, wanted * _SHORTLIST_FACTOR, self.codes.shape[1] * 64)
        table = (projected.reshape(-1, 8) @ _BYTE_SIGNS.T).astype(np.float32)
        coarse = asymmetric_scores(self.codes.view(np.uint8), shortlist, table)
        wanted = min(len(shortlist), wanted)
        rows = np.sort(shortlist[np.argpartition(-coarse, wanted - 1)[:wanted]])
        scores = rerank_scores(self.matrix, rows, np.ascontiguousarray(query, dtype=np.float32)) / self.scale
        order = np.argsort(-scores, kind="stable")[: max(k, _FINAL)]
        rows, scores = rows[order], scores[order]
        if self.exact is not None:
            # int8 scores carry about 0.005 of noise: enough to swap near-ties, so the last few are decided
            # on float16 copies (a few dozen rows read, from memory or a memory-mapped file).
            rows = np.sort(rows)
            scores = self.exact[rows].astype(np.float32) @ query.astype(np.float32)
            order = np.argsort(-scores, kind="stable")
            rows, scores = rows[order], scores[order]
        return self.ids[rows[:k]], scores[:k]

    def nbytes(self) -> int:
        """In memory: codes and int8 vectors (the float16 copies can live in a memory-mapped file)."""
        return self.codes.nbytes + self.matrix.nbytes + self.ids.nbytes

    def save(self, folder: Path) -> None:
        arrays = (
            ("ids", self.ids),
            ("codes", self.codes),
            ("int8", self.matrix),
            ("mean", self.mean),
            ("rotation", self.rotation),
            ("rerank", self.exact),
        )
        for name, array in arrays:
            if array is not None:
                np.save(folder / f"{name}.npy", array)
        (folder / "binary.json").write_text(json.dumps({"scale": self.scale, "rerank": self.rerank}))

    @classmethod
    def load(cls, folder: Path) -> BinaryIndex:
        meta = json.loads((folder / "binary.json").read_text())
        names = ("ids", "codes", "int8", "mean", "rotation", "rerank")
        arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r") for n in names if (folder / f"{n}.npy").exists()}
        return cls.from_parts(
            np.asarray(arrays["ids"]),
            arrays["codes"],
            arrays["int8"],
            meta["scale"],
            np.asarray(arrays["mean"]),
            np.asarray(arrays["rotation"]),
            meta["rerank"],
            arrays.get("rerank"),
        )


_FINAL = 32  # candidates whose order is settled on float16 copies
_SHORTLIST_FACTOR = 10  # Hamming shortlist = this many times the int8 re-rank count
# +1/-1 for each of the 8 bits of every byte value, most significant bit first (np.packbits' order).
_BYTE_SIGNS = (((np.arange(256)[:, None] >> np.arange(7, -1, -1)) & 1) * 2 - 1).astype(np.float32)


def random_rotation(dim: int, seed: int = 20261122) -> np.ndarray:
    """A fixed random orthogonal matrix. Signs of randomly rotated components are SimHash: two vectors at
    angle t differ in a share t/pi of bits, whatever the embedding's own axes look like."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def sign_codes(vectors: np.ndarray, mean: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """One bit per rotated dimension (above the rotated gallery mean or not), packed into 64-bit words."""
    return pack_signs((vectors - mean) @ rotation.T > 0)


def pack_signs(positive: np.ndarray) -> np.ndarray:
    bits = np.packbits(positive, axis=1)
    pad = (-bits.shape[1]) % 8
    if pad:
        bits = np.pad(bits, ((0, 0), (0, pad)))
    return np.ascontiguousarray(bits).view(np.uint64)


def build_index(ids: np.ndarray, vectors: np.ndarray, settings) -> VectorIndex:
    """Exact below `gallery.exact_max_size` templates; above it the configured large-gallery index."""
    cfg = settings.gallery
    if len(ids) <= cfg.exact_max_size:
        return ExactIndex(ids, vectors, cfg.exact_dtype)
    if cfg.large_index == "binary":
        return BinaryIndex(ids, vectors, rerank=cfg.rerank)
    return HnswIndex(
        ids,
        vectors,
        connectivity=cfg.hnsw_connectivity,
        expansion_search=cfg.hnsw_expansion_search,
        rerank=cfg.rerank,
    )
