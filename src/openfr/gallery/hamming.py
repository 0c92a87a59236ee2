"""Native kernels for the binary-code scan (numba): Hamming distance of one code to every code, and the
rows within the R smallest distances. One pass over 64 bytes per face; both cores share the rows."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@njit(parallel=True, fastmath=True, cache=True)
def hamming_to_all(codes: np.ndarray, query: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - JIT
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
def nearest_rows(distances: np.ndarray, wanted: int, max_distance: int) -> np.ndarray:  # pragma: no cover - JIT
    """Rows whose distance is within the `wanted` smallest (ties at the cut-off all kept), via a histogram:
    linear time, unlike a partial sort of a million entries."""
    histogram = np.zeros(max_distance + 1, np.int64)
    for value in distances:
        histogram[value] += 1
    total = 0
    cut = max_distance
    for d in range(max_distance + 1):
        total += histogram[d]
        if total >= wanted:
            cut = d
            break
    rows = np.empty(total, np.int64)
    k = 0
    for i in range(distances.shape[0]):
        if distances[i] <= cut:
            rows[k] = i
            k += 1
    return rows[:k]


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
