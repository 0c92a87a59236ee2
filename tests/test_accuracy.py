"""Acceptance: verification accuracy on LFW View 1 DevTest with the threshold calibrated on DevTrain."""

import pytest

from conftest import shared
from openfr.evaluation.pairs import read_pairs
from openfr.evaluation.verification import evaluate_pairs
from openfr.settings import Settings


@pytest.mark.shared_data
def test_buffalo_s_lfw_devtest_accuracy():
    root = shared("lfw_view1")
    pairs = read_pairs(root / "pairsDevTest.txt", root / "images")
    report = evaluate_pairs(pairs, Settings())  # the pack's calibrated threshold, not one tuned on DevTest
    summary = report.summary()
    assert summary["pairs"] == 1000 and summary["failed_images"] == 0
    assert summary["accuracy"] >= 0.995, summary
    assert summary["fmr"] <= 0.002, summary


@pytest.mark.shared_data
def test_every_deepface_photo_has_its_face_found_and_compare_decides_right(engine):
    """deepface_pairs: close-ups up to 2903x4352, group photos; 300 labelled pairs (compare's rule: main
    face of each photo against the calibrated threshold)."""
    import csv

    from openfr.imageio import load_image

    root = shared("deepface_pairs")
    main_face = {}
    for path in sorted(p for p in root.iterdir() if p.suffix.lower() in (".jpg", ".png")):
        faces = engine.analyse(load_image(path))
        assert faces, f"no face found in {path.name}"
        main_face[path.name] = faces[0]
    with (root / "master.csv").open() as fh:
        pairs = [(r["file_x"], r["file_y"], r["Decision"] == "Yes") for r in csv.DictReader(fh)]
    right = sum((engine.similarity(main_face[a], main_face[b]) >= engine.threshold) == same for a, b, same in pairs)
    assert len(main_face) == 64 and len(pairs) == 300
    assert right / len(pairs) >= 0.95, right
