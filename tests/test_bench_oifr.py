"""`openfr bench oifr` at a tiny size: a real server in its own process, an officer over HTTP, the OIFR route.
Its figures are not checked (tests never assert timings); its contract, its honesty and its clean-up are."""

from __future__ import annotations

import json
import tempfile

import numpy as np
import psutil
from rich.console import Console
from typer.testing import CliRunner

from conftest import shared
from openfr.cli import app as cli
from openfr.cli.bench_cmds import oifr_table
from openfr.evaluation import bench_gallery
from openfr.imageio import load_image

FIGURES = ("p50_ms", "p95_ms", "max_ms", "first_ms", "first_after_enrolment_ms", "first_after_restart_ms", "build_s")
FIGURES += ("server_rss_mb", "server_peak_rss_mb")


def test_bench_oifr_reports_the_contract_finds_the_mates_and_leaves_nothing(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the throwaway installation goes
    no_data = tmp_path / "no-data"  # no ../shared/data: statistics and photos from the model wheel
    no_data.mkdir()
    args = ["bench", "oifr", "--size", "2000", "--probes", "3", "--data", str(no_data), "--json"]
    before = set(psutil.Process().children(recursive=True))  # this test process's own (e.g. its browser)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["size"] == 2000 and report["probes"] == 3
    assert report["gallery_faces"] == 2000  # counted in the store, not echoed
    assert report["route"] == "/api/oifr/search"
    for key in FIGURES:
        assert isinstance(report[key], float) and report[key] > 0, key
    assert report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]
    assert len(report["warmup_ms"]) == 2
    assert report["machine"]["cores"] >= 1 and report["machine"]["memory_gib"] > 0
    assert report["mates_enrolled"] >= 1
    assert report["mate_listed"] == 1.0 and report["mate_rank_1"] == 1.0  # each probe found its own mate first
    assert "sample photos" in report["photos"] and "sample photos" in report["statistics"]
    assert set(psutil.Process().children(recursive=True)) <= before  # the server was stopped
    assert list(scratch.iterdir()) == []  # and its installation removed
    console = Console(width=200, record=True)
    console.print(oifr_table(report))  # the same figures for a person (without --json)
    table = console.export_text()
    assert f"{report['p50_ms']:.0f} / {report['p95_ms']:.0f} / {report['max_ms']:.0f} ms" in table


def test_a_size_below_the_real_mates_is_refused(tmp_path):
    no_data = tmp_path / "no-data"
    no_data.mkdir()
    before = set(psutil.Process().children(recursive=True))
    result = CliRunner().invoke(cli, ["bench", "oifr", "--size", "1", "--probes", "1", "--data", str(no_data)])
    assert result.exit_code != 0
    assert "--size must be at least" in result.output
    assert set(psutil.Process().children(recursive=True)) <= before


def test_phone_photos_are_twelve_megapixel_jpegs(sample_paths):
    photo = bench_gallery.phone_photo(sample_paths["yaoming"].read_bytes())
    assert photo[:3] == b"\xff\xd8\xff"
    height, width = load_image(photo).shape[:2]
    assert abs(width * height - bench_gallery.PHONE_PIXELS) < 0.01 * bench_gallery.PHONE_PIXELS


def test_probe_people_from_shared_data_have_another_photo_to_search_with():
    people, source = bench_gallery.people(shared("deepface_pairs").parent)
    assert "deepface_pairs" in source and len(people) >= 5
    assert all(len(person.photos) >= 2 and not person.mirror for person in people)
    names = [name for person in people for name, _ in person.photos]
    assert len(names) == len(set(names))  # one person per photo


def test_a_search_embeds_only_the_face_it_searches(engine, samples):
    """The search path's fix: the team photo's bystanders get boxes and quality, not embeddings."""
    image = samples["players"]
    every = engine.analyse(image)
    searched = engine.analyse_largest(image)
    assert len(searched) == len(every) > 1
    for a, b in zip(every, searched, strict=True):
        assert np.allclose(a.box, b.box) and a.quality.as_dict() == b.quality.as_dict()
    assert all(face.embedding is None for face in searched[1:])
    assert float(np.dot(searched[0].embedding.vector, every[0].embedding.vector)) > 0.9999
