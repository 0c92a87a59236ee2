"""The command-line contract (docs/architecture.md, "Layers"), exercised as a user would: real processes, real
exit codes."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from actors import openfr
from conftest import shared


def assert_clean_failure(result: subprocess.CompletedProcess, code: int, pattern: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("openfr: error:"), result.stderr
    assert pattern in lines[0]
    assert result.stdout == ""


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, sample_paths):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "notes.jpg").write_text("this is not an image")
    data = sample_paths["players"].read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    # A real 100-megapixel PNG (1-bit, so it is small on disk): refused from its header.
    Image.new("1", (10_000, 10_000)).save(folder / "huge.png")
    return folder


def test_detect_json(sample_paths):
    result = openfr("detect", str(sample_paths["gdp"]), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["image"] == str(sample_paths["gdp"])
    assert len(doc["faces"]) >= 3
    face = doc["faces"][0]
    assert len(face["box"]) == 4 and len(face["landmarks"]) == 5 and all(len(p) == 2 for p in face["landmarks"])
    assert 0 < face["score"] <= 1
    assert {"usable", "reasons", "inter_eye_px", "blur", "yaw", "pitch"} <= face["quality"].keys()


def test_compare_json_same_and_different(sample_paths, tmp_path):
    players = Image.open(sample_paths["players"])
    # Yao Ming's head in the team photo (number 13), cropped with margin to make a second photo of him.
    players.crop((660, 90, 820, 250)).resize((320, 320)).save(tmp_path / "yao_in_team.png")
    same = openfr("compare", str(sample_paths["yaoming"]), str(tmp_path / "yao_in_team.png"), "--json")
    assert same.returncode == 0, same.stderr
    doc = json.loads(same.stdout)
    assert {"score", "threshold", "match"} <= doc.keys()
    assert doc["match"] is True and doc["score"] >= doc["threshold"]
    Image.open(sample_paths["gdp"]).crop((100, 10, 230, 150)).save(tmp_path / "another_player.png")
    other = openfr("compare", str(sample_paths["yaoming"]), str(tmp_path / "another_player.png"), "--json")
    different = json.loads(other.stdout)
    assert different["match"] is False and different["score"] < different["threshold"]
    lowered = openfr(
        "compare", str(sample_paths["yaoming"]), str(tmp_path / "another_player.png"), "--threshold", "0.1"
    )
    assert_clean_failure(lowered, 2, "below the model's calibrated")


def test_embed_streams_one_line_per_image_and_survives_bad_files(sample_paths, bad_files, tmp_path):
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    Image.open(sample_paths["yaoming"]).save(folder / "a.png")
    Image.open(sample_paths["gdp"]).save(folder / "sub" / "c.webp")
    (folder / "b.jpg").write_bytes((bad_files / "truncated.jpg").read_bytes())
    result = openfr("embed", str(folder), str(sample_paths["players"]), "--json")
    assert result.returncode == 2  # some input was bad; everything else was still processed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == [
        str(folder / "a.png"),
        str(folder / "b.jpg"),
        str(folder / "sub" / "c.webp"),
        str(sample_paths["players"]),
    ]
    assert "truncated" in lines[1]["error"] or "corrupt" in lines[1]["error"]
    assert len(lines[0]["faces"]) == 1 and len(lines[0]["faces"][0]["embedding"]) == 512
    assert len(lines[3]["faces"]) >= 14
    assert "1 of 4 image(s) could not be read" in result.stderr


def test_embed_single_worker_matches_parallel(sample_paths):
    one = openfr("embed", str(sample_paths["gdp"]), "--workers", "1")
    two = openfr("embed", str(sample_paths["gdp"]), str(sample_paths["yaoming"]), "--workers", "2")
    assert one.returncode == two.returncode == 0
    assert json.loads(one.stdout) == json.loads(two.stdout.splitlines()[0])


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("notes.jpg", "not an image"),
        ("truncated.jpg", "truncated"),
        ("missing.jpg", "no such file"),
        ("huge.png", "100.0 MP exceeds"),
    ],
)
def test_bad_input_exits_2_with_one_line(bad_files, sample_paths, name, reason):
    assert_clean_failure(openfr("detect", str(bad_files / name), "--json"), 2, reason)
    assert_clean_failure(openfr("compare", str(sample_paths["yaoming"]), str(bad_files / name)), 2, reason)


def test_no_face_and_bad_settings_are_clean_failures(tmp_path, sample_paths):
    Image.new("RGB", (300, 300), (120, 130, 140)).save(tmp_path / "wall.png")
    assert_clean_failure(openfr("compare", str(tmp_path / "wall.png"), str(sample_paths["yaoming"])), 2, "no face")
    bad = openfr("detect", str(sample_paths["yaoming"]), env={"OPENFR_DETECTION__NMS_IOU": "7"})
    assert_clean_failure(bad, 2, "invalid settings")


def test_licence_refusal_is_explained(sample_paths):
    result = openfr("detect", str(sample_paths["yaoming"]), env={"OPENFR_OPERATIONAL": "1"})
    assert_clean_failure(result, 2, "research only")


def test_models_json_lists_cards():
    result = openfr("models", "--json")
    assert result.returncode == 0, result.stderr
    cards = {c["id"]: c for c in json.loads(result.stdout)["packs"]}
    assert {"buffalo_s", "dlib", "onnx-dir"} <= cards.keys()
    assert cards["buffalo_s"]["licence_class"] == "research" and cards["buffalo_s"]["installed"]
    assert cards["buffalo_s"]["embedding_size"] == 512 and 0 < cards["buffalo_s"]["threshold"] < 1
    assert cards["dlib"]["licence_class"] == "open"


def test_demo_finds_the_portrait_in_the_team_photo(tmp_path):
    result = openfr("demo-search", env={"OPENFR_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "1 candidate(s) at or above the threshold; top: players.jpg" in result.stdout
    for name in ("players-scored.jpg", "gdp-scored.jpg", "review-side-by-side.png"):
        assert (tmp_path / "demo" / name).stat().st_size > 1000


@pytest.mark.shared_data
def test_evaluate_pairs_reports_accuracy_and_plots(tmp_path):
    root = shared("lfw_view1")
    lines = (root / "pairsDevTest.txt").read_text().splitlines()
    subset = tmp_path / "pairs.txt"
    subset.write_text("\n".join(["30", *lines[1:31], *lines[501:531]]) + "\n")
    plot = tmp_path / "roc.png"
    result = openfr("evaluate", "pairs", str(subset), "--images", str(root / "images"), "--plot", str(plot), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["genuine_pairs"] == 30 and doc["impostor_pairs"] == 30
    assert doc["accuracy"] >= 0.95
    assert [row["far"] for row in doc["tar_at_far"]] == [0.01, 0.001]
    assert not any(row["resolved"] for row in doc["tar_at_far"])  # 30 impostors cannot resolve FAR 1e-2
    with Image.open(plot) as png:
        assert png.format == "PNG" and png.size[0] > 600


def test_demo_prepares_the_console_and_prints_how_to_sign_in(tmp_path):
    home = tmp_path / "demo"
    result = openfr("demo", "--home", str(home), "--no-serve", "--port", "8123")
    assert result.returncode == 0, result.stderr
    assert "Console: http://127.0.0.1:8123/" in result.stdout
    password = re.search(r"Password \(all demo accounts, new each run\): (\S+)", result.stdout).group(1)
    from actors import make_app, sign_in
    from openfr.live import lifecycle

    app = make_app(home)
    assert sign_in(app, "demo-operator", password).role.value == "operator"
    with app.runtime.db.read() as session:
        deployment = lifecycle.get(session, "demo-deployment")
        assert deployment.state == "authorised" and deployment.authorised_by == "demo-authoriser"
        assert deployment.created_by == "demo-admin"
        assert Path(deployment.cameras[0]["source"]).is_file()
    again = openfr("demo", "--home", str(home), "--no-serve")  # a second run: same data, a new password
    new_password = re.search(r"new each run\): (\S+)", again.stdout).group(1)
    assert again.returncode == 0 and new_password != password
