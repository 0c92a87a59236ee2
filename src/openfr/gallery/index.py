"""Vector indexes over one gallery's templates, behind one protocol.

- `ExactIndex`: every template scored (numpy over float16 or int8). Recall 1.0; cost grows with size.
- `BinaryIndex` (default for large galleries): sign-bit codes scored in full by native kernels, the best
  `rerank` re-scored on int8 vectors. Linear but tiny per face; recall does not depend on structure.
- `HnswIndex`: usearch HNSW graph on int8 vectors, then the best `rerank` candidates re-scored exactly
  against float16 copies. Sub-linear, but measured to lose low-similarity mates on face embeddings.
- PostgreSQL uses pgvector's HNSW instead (`gallery/pgvector.py`), so vectors stay in the database.

All return template ids and cosine scores, best first; grouping templates into subjects happens above.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

INDEX_FORMAT = 2  # bumped whenever saved indexes change layout: older ones are rebuilt, never misread


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
    """Sign-bit codes scored in full, a shortlist completed on the second half of its codes, the best
    `rerank` re-scored on int8 vectors and the last few on float16 (see `gallery/kernels.py`).

    Each face keeps 64 bytes of code (the sign of each component after subtracting the gallery mean and a
    fixed random rotation) and 512 bytes of int8 vector: 576 bytes in memory. Face embeddings have little
    local structure (impostors all sit near similarity 0), which defeats graph indexes for low-similarity
    mates; a full pass over compact codes does not depend on structure. The pass reads only the first half
    of every code, so `shortlist_share` of the gallery (2% by default) goes on to the second half: a wider
    share protects the lowest-similarity mates and costs latency.
    """

    def __init__(
        self,
        ids: np.ndarray,
        vectors: np.ndarray | None = None,
        *,
        rerank: int = 400,
        shortlist_share: float = 0.02,
        mean=None,
    ):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.size = len(self.ids)
        self.rerank = rerank
        self.shortlist_share = shortlist_share
        self.exact: np.ndarray | None = None
        self._lock = threading.Lock()
        self._scratch: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if vectors is not None:
            self.mean = vectors.mean(axis=0).astype(np.float32) if mean is None else mean
            self.rotation = random_rotation(vectors.shape[1])
            self.head, self.tail = split_codes(sign_codes(vectors, self.mean, self.rotation))
            self.matrix, self.scale = quantise_int8(vectors)
            self.exact = vectors.astype(np.float16)

    @classmethod
    def from_parts(
        cls,
        ids,
        codes,
        matrix,
        scale: float,
        mean,
        rotation,
        *,
        rerank: int = 400,
        shortlist_share: float = 0.02,
        exact: np.ndarray | None = None,
    ) -> BinaryIndex:
        """`codes`: (head, tail) from `split_codes`. `exact`: float16 rows (row i = ids[i]) for the final
        ordering; a memory-mapped file keeps them out of RAM, since only a few dozen rows are read per query."""
        index = cls(ids, rerank=rerank, shortlist_share=shortlist_share)
        index.head, index.tail = codes
        index.matrix, index.scale, index.mean, index.rotation = matrix, scale, mean, rotation
        index.exact = exact
        return index

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        from openfr.gallery import kernels

        if self.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        flip, planes = kernels.probe_masks(np.asarray(query, np.float32), self.mean, self.rotation)
        split, words = self.head.shape[1], planes.shape[1]
        # Four stages, each more precise and run on fewer faces: half codes on every face, whole codes on
        # a shortlist, int8 vectors on the best `rerank`, float16 on the last few.
        # The best match's rank on whole codes grows with the gallery (worst of 600 probes: 79th in 1M,
        # 1,478th in 10M), so the int8 stage takes at least one face in 2,500.
        wanted = max(k, self.rerank, self.size // 2500)
        shortlist = max(8 * wanted, int(self.shortlist_share * self.size))  # small galleries: a wide margin
        with self._lock:  # the passes use both cores and shared buffers: one query at a time
            scratch, slices, counts = self._buffers(shortlist)
            kernels.score_all(self.head, flip[:split], planes[:, :split].copy(), scratch)
            rows, scores = kernels.select(scratch, self.size, shortlist, split, slices, counts)
        kernels.add_scores(self.tail, rows, flip[split:], planes[:, split:].copy(), scores)
        rows, _ = kernels.best(rows, scores, wanted, words)
        scores = kernels.rerank_scores(self.matrix, rows, np.ascontiguousarray(query, dtype=np.float32)) / self.scale
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

    def _buffers(self, shortlist: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(scores of every face, per-slice rows, per-slice counts), kept between queries: fresh buffers
        would cost page faults on every query."""
        from openfr.gallery.kernels import CHUNKS

        per_slice = 2 * (-(-shortlist // CHUNKS)) + 64  # room for sampling error and uneven slices
        if self._scratch is None or self._scratch[1].shape[1] != per_slice:
            self._scratch = (
                np.zeros(-(-self.size // 4) * 4, np.int16),  # whole 64-bit words, as _collect reads them
                np.empty((CHUNKS, per_slice), np.int64),
                np.zeros(CHUNKS, np.int64),
            )
        return self._scratch

    def nbytes(self) -> int:
        """In memory: codes and int8 vectors (the float16 copies can live in a memory-mapped file)."""
        return self.head.nbytes + self.tail.nbytes + self.matrix.nbytes + self.ids.nbytes

    def save(self, folder: Path) -> None:
        arrays = (
            ("ids", self.ids),
            ("head", self.head),
            ("tail", self.tail),
            ("int8", self.matrix),
            ("mean", self.mean),
            ("rotation", self.rotation),
            ("rerank", self.exact),
        )
        for name, array in arrays:
            if array is not None:
                np.save(folder / f"{name}.npy", array)
        meta = {"scale": self.scale, "rerank": self.rerank, "shortlist_share": self.shortlist_share}
        (folder / "binary.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path) -> BinaryIndex:
        """Codes are read into memory (every query reads all of them); int8 and float16 rows stay in
        memory-mapped files, of which a query reads a thousand rows at most."""
        meta = json.loads((folder / "binary.json").read_text())
        return cls.from_parts(
            np.load(folder / "ids.npy"),
            (np.load(folder / "head.npy"), np.load(folder / "tail.npy")),
            np.load(folder / "int8.npy", mmap_mode="r"),
            meta["scale"],
            np.load(folder / "mean.npy"),
            np.load(folder / "rotation.npy"),
            rerank=meta["rerank"],
            shortlist_share=meta["shortlist_share"],
            exact=np.load(folder / "rerank.npy", mmap_mode="r") if (folder / "rerank.npy").exists() else None,
        )


_FINAL = 32  # candidates whose order is settled on float16 copies


def random_rotation(dim: int, seed: int = 20261122) -> np.ndarray:
    """A fixed random orthogonal matrix. Signs of randomly rotated components are SimHash: two vectors at
    angle t differ in a share t/pi of bits, whatever the embedding's own axes look like; so does any subset
    of the bits, which is what lets the first pass read only half of each code."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def sign_codes(vectors: np.ndarray, mean: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """One bit per rotated dimension (above the rotated gallery mean or not), packed into 64-bit words."""
    from openfr.gallery.kernels import pack_signs

    return pack_signs((vectors - mean) @ rotation.T > 0)


def split_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first half, second half) of each code's words, each contiguous, so the full pass streams half."""
    split = max(1, codes.shape[1] // 2)
    return np.ascontiguousarray(codes[:, :split]), np.ascontiguousarray(codes[:, split:])


def build_index(ids: np.ndarray, vectors: np.ndarray, settings) -> VectorIndex:
    """Exact below `gallery.exact_max_size` templates; above it the configured large-gallery index."""
    cfg = settings.gallery
    if len(ids) <= cfg.exact_max_size:
        return ExactIndex(ids, vectors, cfg.exact_dtype)
    if cfg.large_index == "binary":
        return BinaryIndex(ids, vectors, rerank=cfg.rerank, shortlist_share=cfg.shortlist_share)
    return HnswIndex(
        ids,
        vectors,
        connectivity=cfg.hnsw_connectivity,
        expansion_search=cfg.hnsw_expansion_search,
        rerank=cfg.rerank,
    )
