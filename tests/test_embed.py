import numpy as np
import pytest

from openfr.errors import EmbeddingSpaceError, NoFaceError
from openfr.types import Embedding


def test_embeddings_are_unit_length_and_stamped(engine, samples):
    faces = engine.analyse(samples["players"])
    vectors = np.stack([f.embedding.vector for f in faces])
    assert vectors.shape == (len(faces), 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert {f.embedding.space for f in faces} == {engine.space}
    assert engine.space.startswith("buffalo_s@9cc6e4a75f0e")


def test_embedding_is_deterministic_and_batch_independent(engine, samples):
    first = engine.analyse(samples["gdp"])
    second = engine.analyse(samples["gdp"])
    assert [f.embedding.vector.tobytes() for f in first] == [f.embedding.vector.tobytes() for f in second]
    batched = engine.analyse_many([samples["players"], samples["gdp"]])[1]
    for a, b in zip(first, batched, strict=True):
        assert np.abs(a.embedding.vector - b.embedding.vector).max() < 1e-5


def test_same_person_scores_far_above_strangers(engine, samples):
    probe = engine.probe(samples["yaoming"])
    team = engine.analyse(samples["players"])
    scores = sorted((engine.similarity(probe, f) for f in team), reverse=True)
    assert scores[0] >= engine.threshold + 0.2  # Yao Ming, number 13 in the team photo
    assert scores[1] < engine.threshold  # nobody else in the team crosses the calibrated threshold
    assert all(engine.similarity(probe, f) < engine.threshold for f in engine.analyse(samples["gdp"]))


def test_cross_space_comparison_is_refused():
    a = Embedding("buffalo_s@aaa", np.ones(4, np.float32) / 2)
    b = Embedding("dlib@bbb", np.ones(4, np.float32) / 2)
    with pytest.raises(EmbeddingSpaceError, match="different model packs"):
        a.similarity(b)


def test_probe_without_a_face_is_a_clear_error(engine):
    with pytest.raises(NoFaceError, match="no face"):
        engine.probe(np.full((200, 200, 3), 90, np.uint8), name="wall.jpg")
