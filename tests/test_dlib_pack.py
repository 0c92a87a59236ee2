"""The public-domain dlib pack behind the same protocols as buffalo_s."""

import numpy as np


def test_dlib_pack_detects_aligns_and_embeds(dlib_engine, samples):
    faces = dlib_engine.analyse(samples["yaoming"])
    assert len(faces) == 1
    face = faces[0]
    assert face.landmark_scheme == "dlib5" and face.landmarks.shape == (5, 2)
    left, right = face.eye_centres()
    assert left[0] < face.nose()[0] < right[0] and face.nose()[1] > max(left[1], right[1])
    assert face.quality.usable, face.quality.reasons
    vector = face.embedding.vector
    assert vector.shape == (128,) and abs(np.linalg.norm(vector) - 1) < 1e-5
    assert face.embedding.space.startswith("dlib@55533b28a958")


def test_dlib_pack_ranks_the_same_person_first(dlib_engine, samples):
    probe = dlib_engine.probe(samples["yaoming"])
    team = dlib_engine.analyse(samples["players"])
    assert len(team) >= 10
    best = max(team, key=lambda f: dlib_engine.similarity(probe, f))
    # Yao Ming (number 13) stands at about x = 718..763, y = 141..191 in the team photo.
    assert 700 < (best.box[0] + best.box[2]) / 2 < 780 and 120 < (best.box[1] + best.box[3]) / 2 < 210
    assert dlib_engine.similarity(probe, best) >= dlib_engine.threshold


def test_dlib_and_buffalo_spaces_never_mix(dlib_engine, engine, samples):
    import pytest

    from openfr.errors import EmbeddingSpaceError

    a = dlib_engine.probe(samples["yaoming"])
    b = engine.probe(samples["yaoming"])
    with pytest.raises(EmbeddingSpaceError):
        a.embedding.similarity(b.embedding)
