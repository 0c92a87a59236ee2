"""Native kernels for the binary-code index (numba): one pass over 64 bytes per face computing Hamming
distances and their histograms, the rows within the R smallest, and the two re-scoring stages. Both cores
share the work; nothing here calls BLAS (see rerank_scores)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


CHUNKS = 64  # independent slices of the gallery for the parallel passes
_SAMPLE_STRIDE = 16  # the distance cut-off is estimated from every 16th face


@njit(parallel=True, fastmath=True, cache=True)
def hamming_scan(codes: np.ndarray, query: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - JIT
    """Hamming distance of `query` to every code, into `out`."""
    n, words = codes.shape
    for i in prange(n):
        distance = np.uint64(0)
        for j in range(words):
            x = codes[i, j] ^ query[j]
            # Population count (SWAR); LLVM lowers it to POPCNT where the CPU has one.
            x = x - ((x >> np.uint64(1)) & _M1)
            x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
            x = (x + (x >> np.uint64(4))) & _M4
            distance += (x * _H01) >> np.uint64(56)
        out[i] = distance


@njit(cache=True)
def _cut_off(distances: np.ndarray, wanted: int, max_distance: int) -> int:  # pragma: no cover - JIT
    """Distance below which about `wanted` faces lie, estimated on a 1-in-16 sample (an exact histogram of
    every face would cost a full extra pass); the caller widens it if the estimate falls short."""
    n = distances.shape[0]
    histogram = np.zeros(max_distance + 1, np.int64)
    for i in range(0, n, _SAMPLE_STRIDE):
        histogram[distances[i]] += 1
    target = wanted * 1.25 * (n // _SAMPLE_STRIDE + 1) / n
    running = 0
    for d in range(max_distance + 1):
        running += histogram[d]
        if running >= target:
            return d
    return max_distance


@njit(parallel=True, cache=True)
def _collect(distances: np.ndarray, cut: int) -> np.ndarray:  # pragma: no cover - JIT
    n = distances.shape[0]
    step = (n + CHUNKS - 1) // CHUNKS
    counts = np.zeros(CHUNKS, np.int64)
    for c in prange(CHUNKS):
        for i in range(c * step, min(n, (c + 1) * step)):
            if distances[i] <= cut:
                counts[c] += 1
    offsets = np.zeros(CHUNKS + 1, np.int64)
    for c in range(CHUNKS):
        offsets[c + 1] = offsets[c] + counts[c]
    rows = np.empty(offsets[CHUNKS], np.int64)
    for c in prange(CHUNKS):
        k = offsets[c]
        for i in range(c * step, min(n, (c + 1) * step)):
            if distances[i] <= cut:
                rows[k] = i
                k += 1
    return rows


def rows_within(distances: np.ndarray, wanted: int, max_distance: int) -> np.ndarray:
    """At least `wanted` rows (all of them if fewer exist) with the smallest distances, in row order."""
    cut = _cut_off(distances, wanted, max_distance)
    rows = _collect(distances, cut)
    while len(rows) < min(wanted, len(distances)) and cut < max_distance:
        cut += 2
        rows = _collect(distances, cut)
    return rows


@njit(parallel=True, fastmath=True, cache=True)
def rerank_scores(matrix: np.ndarray, rows: np.ndarray, query: np.ndarray) -> np.ndarray:  # pragma: no cover - JIT
    """Dot products of the chosen int8 rows with a float32 query. Done here rather than through BLAS: after
    the parallel scan, BLAS's own thread pool would fight numba's for the same two cores (10x slower)."""
    out = np.empty(rows.shape[0], np.float32)
    for k in prange(rows.shape[0]):
        row = matrix[rows[k]]
        acc = np.float32(0.0)
        for j in range(row.shape[0]):
            acc += np.float32(row[j]) * query[j]
        out[k] = acc
    return out


@njit(parallel=True, fastmath=True, cache=True)
def asymmetric_scores(codes8: np.ndarray, rows: np.ndarray, table: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Score candidate codes against the query's real-valued projections rather than its bits: byte b of a
    code looks up table[b, byte], the sum of +-projection over that byte's eight bits. Far more precise than
    Hamming distance for the same 64 bytes, but 8x the work, so it only re-orders a Hamming shortlist."""
    out = np.empty(rows.shape[0], np.float32)
    for k in prange(rows.shape[0]):
        code = codes8[rows[k]]
        acc = np.float32(0.0)
        for b in range(code.shape[0]):
            acc += table[b, code[b]]
        out[k] = acc
    return out
