"""The binary index's native kernels against plain numpy definitions of what they compute."""

from __future__ import annotations

import numpy as np
import pytest

from openfr.gallery import kernels
from openfr.gallery.index import random_rotation, sign_codes, split_codes


def _reference_score(codes: np.ndarray, projected: np.ndarray) -> np.ndarray:
    """Sum over bits of the probe's 0-3 weight where the code's sign agrees with the probe's."""
    weight = np.minimum(np.abs(projected) // (projected.std() * 0.5), 3)
    bits = np.unpackbits(codes.view(np.uint8), axis=1)[:, : projected.shape[0]].astype(bool)
    agree = bits == (projected > 0)
    return (agree * weight).sum(axis=1).astype(np.int64)


@pytest.fixture(scope="module")
def gallery():
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((3000, 512)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    mean = vectors.mean(axis=0)
    rotation = random_rotation(512)
    return vectors, mean, rotation, sign_codes(vectors, mean, rotation)


def test_probe_scores_match_the_definition(gallery):
    vectors, mean, rotation, codes = gallery
    probe = vectors[7] * 0.6 + vectors[8] * 0.4
    flip, planes = kernels.probe_masks(probe.astype(np.float32), mean, rotation)
    projected = (probe - mean) @ rotation.T
    head, tail = split_codes(codes)
    scores = np.zeros(len(codes) + 3, np.int16)  # padded, as the index keeps it
    kernels.score_all(head, flip[:4], planes[:, :4].copy(), scores)
    full = scores[: len(codes)].astype(np.int64)
    kernels.add_scores(tail, np.arange(len(codes)), flip[4:], planes[:, 4:].copy(), full)
    np.testing.assert_array_equal(full, _reference_score(codes, projected))
    assert set(np.argsort(-full)[:2]) == {7, 8}  # the probe's own ingredients score highest


@pytest.mark.parametrize("capacity", [400, 3])  # 3: every slice overflows, forcing the exact route
def test_select_keeps_every_row_better_than_what_it_drops(capacity):
    rng = np.random.default_rng(5)
    n, wanted = 10_001, 500
    scores = np.zeros(n + 3, np.int16)
    scores[:n] = np.clip(rng.normal(300, 25, n), 0, 768)
    scores[n:] = 768  # padding beyond n must never be chosen
    rows = np.empty((kernels.CHUNKS, capacity), np.int64)
    chosen, chosen_scores = kernels.select(scores, n, wanted, 4, rows, np.zeros(kernels.CHUNKS, np.int64))
    assert len(chosen) == wanted and chosen.max() < n
    np.testing.assert_array_equal(chosen_scores, scores[chosen])
    assert np.all(np.diff(chosen) > 0)  # row order, no repeats
    dropped = np.setdiff1d(np.arange(n), chosen)
    assert scores[dropped].max() <= scores[chosen].min()


def test_best_of_takes_exactly_the_best_with_ties_first_come():
    scores = np.array([5, 9, 7, 9, 7, 7, 1], np.int64)
    rows, best_scores = kernels.best(np.arange(7) * 10, scores, 4, 1)
    np.testing.assert_array_equal(rows, [10, 20, 30, 40])  # 9, 9 and the first two 7s
    np.testing.assert_array_equal(best_scores, [9, 7, 9, 7])
