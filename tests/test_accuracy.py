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
