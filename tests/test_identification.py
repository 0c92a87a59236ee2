"""Identification thresholds: false alerts grow with the watchlist, the worst group sets the threshold, the
tail model agrees with data it can check, and a track raises one alert for its best subject."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from openfr.engine.packs import get_pack
from openfr.errors import UncalibratedPackError
from openfr.evaluation.calibrate import fit_tail
from openfr.identification import IdentificationCalibration, calibration_for
from openfr.live.decision import DecisionPolicy, TrackState
from openfr.live.watchlist import WatchEntry
from openfr.settings import Settings
from openfr.thresholds import identification_section, identification_threshold, live_floor


def _gaussian_group(name: str, sd: float, n: int = 400_000, seed: int = 1):
    return fit_tail(name, np.random.default_rng(seed).normal(0.0, sd, n))


def test_the_fitted_tail_extrapolates_beyond_the_data_without_promising_fewer_false_matches_than_there_are():
    # Impostor-like scores: N(0, 0.08). The fit sees 400,000 pairs and is judged where they cannot reach
    # (rates of 1e-7 and 1e-9): never below the truth, and not absurdly above it.
    tail = _gaussian_group("g", 0.08)
    assert tail.xi >= 0.0  # a tail is never assumed to end
    truth = norm.sf(0.42, scale=0.08)
    assert truth <= tail.rate(0.42) <= 50 * truth
    assert tail.rate(0.48) >= norm.sf(0.48, scale=0.08)
    assert 0.5 < tail.rate(0.30) / norm.sf(0.30, scale=0.08) < 2  # where the data reaches


def test_a_tail_cut_by_setting_aside_same_person_pairs_is_fitted_as_truncated_not_thinned():
    scores = np.random.default_rng(2).normal(0.0, 0.08, 400_000)
    whole = fit_tail("whole", scores)
    cut = fit_tail("cut", scores, same_person_above=0.3)  # the top pairs set aside as "probably the same person"
    assert cut.pairs < whole.pairs
    assert cut.rate(0.42) > whole.rate(0.42) / 5  # the fit still expects pairs beyond the cut


def test_false_alerts_grow_with_the_watchlist_and_the_worst_group_sets_the_threshold():
    mild, harsh = _gaussian_group("mild", 0.07), _gaussian_group("harsh", 0.09, seed=3)
    both = IdentificationCalibration("test", "synthetic", (mild, harsh))
    alone = IdentificationCalibration("test", "synthetic", (mild,))
    t = 0.4
    assert both.fpir(t, 10_000) > both.fpir(t, 100) > 0
    thresholds = [both.threshold_for(n, 1e-4, floor=0.2) for n in (100, 1_000, 10_000)]
    assert thresholds == sorted(thresholds) and thresholds[0] < thresholds[-1]
    assert both.threshold_for(1_000, 1e-4, 0.2) > alone.threshold_for(1_000, 1e-4, 0.2)
    assert both.fmr(0.4)[1] == "harsh"
    chosen = both.threshold_for(1_000, 1e-4, 0.2)
    assert both.fpir(chosen, 1_000) <= 1e-4 < both.fpir(chosen - 0.002, 1_000)


def test_the_shipped_calibration_gives_live_thresholds_above_the_one_to_one_threshold():
    card = get_pack(Settings()).card
    calibration = calibration_for(card)
    assert calibration is not None and len(calibration.groups) >= 10  # sex x ethnicity, and the watchlist set
    floors = [live_floor(card, n, 1e-4) for n in (1, 100, 2_000, 100_000)]
    assert floors == sorted(floors) and floors[0] >= card.threshold and floors[-1] > floors[1] + 0.05
    section = identification_section(card, 1e-4)
    assert section is not None
    for row in section["thresholds"]:
        assert row["false_alerts_per_100k"] <= 10.0 + 1e-6  # 1 in 10,000 = 10 per 100,000
        assert row["worst_group"] in row["group_fmr"]


def test_a_pack_without_a_calibration_has_no_live_floor_only_its_one_to_one_search_threshold(tmp_path: Path):
    card = replace(get_pack(Settings()).card, id="no-such-pack", calibration_file=tmp_path / "none.json")
    assert calibration_for(card) is None
    assert identification_threshold(card, 10_000, 1e-4) == card.threshold  # a search says its rate is unknown
    with pytest.raises(UncalibratedPackError, match="make one with: openfr evaluate calibrate"):
        live_floor(card, 10_000, 1e-4)  # a live deployment is refused (tests/test_pack_calibration.py)


def _entry(subject: str) -> WatchEntry:
    return WatchEntry(subject, subject, "wanted-serious-offence", Path(f"{subject}.png"))


def test_a_track_raises_one_alert_for_its_best_subject_and_is_replaced_only_by_a_clearly_better_one():
    policy = DecisionPolicy(threshold=0.4, replace_margin=0.05)
    track = TrackState(1, 0, 0, 0.0)
    a, b, c = _entry("a"), _entry("b"), _entry("c")
    # Three look-alikes above the threshold in one shot: one alert, the best.
    assert track.matches_to_alert([(b, 0.47), (a, 0.45), (c, 0.41)], policy) == [(b, 0.47, None)]
    assert track.matches_to_alert([(b, 0.49)], policy) == []  # the same person again: nothing new
    assert track.matches_to_alert([(a, 0.52)], policy) == []  # someone else, but not clearly better
    assert track.matches_to_alert([(a, 0.55)], policy) == [(a, 0.55, "b")]  # clearly better: replaces b
    assert track.matches_to_alert([(c, 0.39)], policy) == []  # below the threshold: never


@pytest.mark.parametrize("shots", [1, 2])
def test_consistent_shots_still_count_per_subject(shots):
    policy = DecisionPolicy(threshold=0.4, consistent_shots=shots)
    track = TrackState(1, 0, 0, 0.0)
    first = track.matches_to_alert([(_entry("a"), 0.5)], policy)
    second = track.matches_to_alert([(_entry("a"), 0.5)], policy)
    assert (len(first), len(second)) == ((1, 0) if shots == 1 else (0, 1))
