import cv2
import numpy as np

from openfr.engine.align import ARCFACE_TEMPLATE, CROP_SIZE, align_face, similarity_transform


def test_similarity_transform_recovers_a_known_warp():
    angle, scale, shift = np.deg2rad(17), 2.3, np.array([40.0, -12.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = ARCFACE_TEMPLATE
    dst = src @ rot.T + shift
    matrix = similarity_transform(src, dst)
    assert np.allclose(matrix[:, :2], rot, atol=1e-9)
    assert np.allclose(matrix[:, 2], shift, atol=1e-9)


def test_least_squares_fit_with_noisy_points_is_exact_for_the_mean():
    rng = np.random.default_rng(0)
    noisy = ARCFACE_TEMPLATE * 3 + 100 + rng.normal(0, 0.5, (5, 2))
    matrix = similarity_transform(noisy, ARCFACE_TEMPLATE)
    mapped = noisy @ matrix[:, :2].T + matrix[:, 2]
    assert np.allclose(mapped.mean(axis=0), ARCFACE_TEMPLATE.mean(axis=0), atol=1e-9)
    assert np.abs(mapped - ARCFACE_TEMPLATE).max() < 1.0


def test_aligned_crop_puts_landmarks_on_the_template(engine, samples):
    image = samples["gdp"]
    faces = engine.detect(image)
    frontal = min(faces, key=lambda f: abs(f.quality.yaw))
    crop = align_face(image, frontal.landmarks)
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3) and crop.dtype == np.uint8
    # Re-detect on the crop (padded, so the detector sees context): landmarks land near the template.
    padded = cv2.copyMakeBorder(crop, 56, 56, 56, 56, cv2.BORDER_CONSTANT, value=0)
    again = engine.detector.detect(padded)
    assert again, "the aligned crop should still contain a detectable face"
    error = np.linalg.norm(again[0].landmarks - 56 - ARCFACE_TEMPLATE, axis=1)
    assert error.max() < 6.0, error
