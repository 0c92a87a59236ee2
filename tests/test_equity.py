"""The equity harness: rates per group with intervals and counts, from labelled faces."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from actors import openfr
from conftest import shared
from openfr.evaluation.equity import LabelledFace, evaluate_equity
from openfr.evaluation.rates import pair_rate_bootstrap, wilson


def _faces(groups: dict[str, np.ndarray], identities: list[str] | None = None) -> tuple[list, np.ndarray]:
    faces, vectors = [], []
    for name, block in groups.items():
        sex, ethnicity = name.split(", ")
        for row in block:
            faces.append(LabelledFace(Path("x"), sex, ethnicity, 30, None))
            vectors.append(row / np.linalg.norm(row))
    if identities:
        for face, identity in zip(faces, identities, strict=True):
            face.identity = identity
    return faces, np.array(vectors, dtype=np.float32)


def test_each_group_gets_its_own_rates_with_intervals_that_hold_them():
    rng = np.random.default_rng(0)
    base = rng.normal(size=64)
    # Group "female, A": near copies of one face (every pair matches); group "male, B": unrelated faces.
    alike = base + rng.normal(scale=0.3, size=(30, 64))
    unrelated = rng.normal(size=(40, 64))
    faces, vectors = _faces({"female, A": alike, "male, B": unrelated})
    report = evaluate_equity(
        faces, vectors, dataset="t", pack="p", without_face=0, threshold=0.5, live_threshold_for=lambda n: 0.6
    )
    rows = {g["group"]: g for g in report.groups if g["kind"] == "sex x ethnicity"}
    a, b = rows["female, A"], rows["male, B"]
    assert (a["n"], a["impostor_pairs"], b["impostor_pairs"]) == (30, 435, 780)
    assert a["fmr"] == 1.0 and a["fpir"] == 1.0 and a["false_alerts"] == 30
    assert b["fmr"] == 0.0 and b["fpir"] == 0.0
    for g in (a, b):
        low, high = g["fmr_ci"]
        assert low <= g["fmr"] <= high and g["fnmr"] is None  # no identities, no mated pairs
    assert b["fmr_ci"][1] > 0  # zero errors never prove a zero rate
    assert report.as_dict()["worst_best_ratio"]["fmr (sex x ethnicity)"] is None  # best is 0: no ratio
    assert "upper bounds" in report.as_dict()["note"]
    assert {g["group"] for g in report.groups if g["kind"] == "age"} == {"30-44"}


def test_mated_pairs_give_a_false_non_match_rate_and_never_count_as_impostors():
    rng = np.random.default_rng(1)
    people = rng.normal(size=(10, 64))
    photos = np.repeat(people, 2, axis=0) + rng.normal(scale=0.2, size=(20, 64))
    faces, vectors = _faces({"female, A": photos}, [f"p{i // 2}" for i in range(20)])
    report = evaluate_equity(
        faces, vectors, dataset="t", pack="p", without_face=0, threshold=0.5, live_threshold_for=lambda n: 0.6
    )
    (row,) = [g for g in report.groups if g["kind"] == "sex x ethnicity"]
    assert row["mated_pairs"] == 10 and row["fnmr"] == 0.0 and row["impostor_pairs"] == 190 - 10
    assert row["fmr"] == 0.0 and row["fpir"] == 0.0  # a person's own other photo is not a false alert


def test_intervals_widen_with_fewer_trials():
    assert wilson(0, 30)[1] > wilson(0, 3000)[1] > 0
    scores = np.full((5, 5), 0.9)
    rate, (low, high), pairs = pair_rate_bootstrap(scores, 0.5, reps=50)
    assert (rate, pairs) == (1.0, 10) and low == high == 1.0


@pytest.mark.shared_data
def test_the_equity_command_reports_every_group_of_a_labelled_folder(tmp_path):
    source = shared("utkface_sample")
    rows = list(csv.DictReader((source / "labels.csv").open()))
    picked = [r for r in rows if r["race"] in ("Black", "White")][:120]
    (tmp_path / "images").mkdir()
    for row in picked:
        (tmp_path / "images" / row["file"]).symlink_to(source / "images" / row["file"])
    with (tmp_path / "labels.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    done = openfr("evaluate", "equity", str(tmp_path), "--json", "--bootstrap", "30", "--plot", str(tmp_path / "e.png"))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    groups = {g["group"] for g in report["groups"] if g["kind"] == "sex x ethnicity"}
    assert groups <= {"female, Black", "female, White", "male, Black", "male, White"} and len(groups) >= 3
    for g in report["groups"]:
        assert g["n"] > 0 and g["fmr_ci"][0] <= g["fmr"] <= g["fmr_ci"][1]
        assert g["fpir_ci"][0] <= g["fpir"] <= g["fpir_ci"][1]
    assert report["live_threshold"] > report["threshold"] and (tmp_path / "e.png").stat().st_size > 1000
    # A labels file without the columns asked for is a clear error, not a traceback.
    bad = openfr("evaluate", "equity", str(tmp_path), "--ethnicity-column", "ethnicity")
    assert bad.returncode == 2 and "no column ethnicity" in bad.stderr
