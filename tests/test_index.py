"""Vector indexes against brute-force float32 truth, on vectors with real-face statistics."""

import numpy as np
import pytest

from openfr.gallery.index import BinaryIndex, ExactIndex, HnswIndex, build_index
from openfr.gallery.synthetic import BANDS, FaceStatistics, impostor_stats, plant_mate
from openfr.settings import GallerySettings, Settings


@pytest.fixture(scope="module")
def stats(engine, samples):
    """Statistics fitted on real embeddings: every face in the three sample photos, plus flips."""
    faces = [f for image in samples.values() for f in engine.analyse(image)]
    faces += [f for image in samples.values() for f in engine.analyse(np.ascontiguousarray(image[:, ::-1]))]
    vectors = np.stack([f.embedding.vector for f in faces])
    # Too few faces for a full covariance: shrink towards isotropic noise of the same total variance.
    fitted = FaceStatistics.fit(vectors, "sample photos")
    return FaceStatistics(fitted.mean, 0.5 * fitted.factor + 0.5 * np.eye(512, dtype=np.float32) * 0.05, "samples")


def _gallery(stats, n, probes, seed=0):
    rng = np.random.default_rng(seed)
    gallery = stats.sample(n, rng)
    queries = stats.sample(probes, rng)
    rows = rng.choice(n, probes, replace=False)
    noise = stats.sample(probes, rng)
    targets = [rng.uniform(*BANDS[i % 3]) for i in range(probes)]
    for i in range(probes):
        gallery[rows[i]] = plant_mate(queries[i], targets[i], noise[i])
    return gallery, queries, rows, np.array(targets)


def test_planted_mates_have_the_exact_similarity(stats):
    gallery, queries, rows, targets = _gallery(stats, 2000, 30)
    got = np.einsum("ij,ij->i", gallery[rows], queries)
    assert np.allclose(got, targets, atol=1e-5)
    assert np.allclose(np.linalg.norm(gallery, axis=1), 1.0, atol=1e-5)
    impostors = impostor_stats(gallery, np.random.default_rng(1), pairs=20_000)
    assert abs(impostors["mean"]) < 0.2 and 0.02 < impostors["std"] < 0.2


@pytest.mark.parametrize("dtype", ["float16", "int8"])
def test_exact_index_matches_brute_force(stats, dtype):
    gallery, queries, _, _ = _gallery(stats, 5000, 40)
    ids = np.arange(len(gallery)) * 3 + 11  # template ids need not be row numbers
    index = ExactIndex(ids, gallery, dtype)
    tolerance = 2e-3 if dtype == "float16" else 2e-2
    for q in queries:
        truth = gallery @ q
        found, scores = index.search(q, 5)
        assert found[0] == ids[truth.argmax()]
        assert np.all(np.diff(scores) <= 1e-6)
        assert np.allclose(scores, truth[(found - 11) // 3], atol=tolerance)
    assert index.nbytes() < gallery.nbytes  # compressed: 2 or 1 bytes per dimension


def test_hnsw_with_rerank_finds_the_exact_top1(stats):
    gallery, queries, _, _ = _gallery(stats, 20_000, 60)
    ids = np.arange(len(gallery))
    index = HnswIndex(ids, gallery, connectivity=16, expansion_search=128, rerank=50)
    hits = 0
    for q in queries:
        found, scores = index.search(q, 10)
        hits += found[0] == (gallery @ q).argmax()
        assert scores[0] == pytest.approx(float(gallery[found[0]] @ q), abs=2e-3)  # re-ranked exactly
    assert hits / len(queries) >= 0.95


def test_binary_codes_with_rerank_find_the_exact_top1(stats, tmp_path):
    gallery, queries, _, _ = _gallery(stats, 20_000, 60)
    ids = np.arange(len(gallery)) + 100
    index = BinaryIndex(ids, gallery, rerank=300)
    assert index.nbytes() / len(gallery) <= 600  # 64 B of code + 512 B of int8 + the id
    index.save(tmp_path)
    reloaded = BinaryIndex.load(tmp_path)  # memory-mapped, as a later process would open it
    for q in queries:
        truth = gallery @ q
        for idx in (index, reloaded):
            found, scores = idx.search(q, 5)
            assert found[0] == ids[truth.argmax()]
            assert scores[0] == pytest.approx(float(truth.max()), abs=2e-3)
            assert np.all(np.diff(scores) <= 1e-6)


def test_index_kind_is_chosen_by_size_and_setting(stats):
    gallery, _, _, _ = _gallery(stats, 300, 3)
    small = build_index(np.arange(300), gallery, Settings(gallery=GallerySettings(exact_max_size=300)))
    large = build_index(np.arange(300), gallery, Settings(gallery=GallerySettings(exact_max_size=299)))
    graph = build_index(
        np.arange(300), gallery, Settings(gallery=GallerySettings(exact_max_size=299, large_index="hnsw"))
    )
    assert isinstance(small, ExactIndex) and isinstance(large, BinaryIndex) and isinstance(graph, HnswIndex)
