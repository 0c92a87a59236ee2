"""`openfr gallery ...` and `openfr search`: the CLI contract on the embedded default."""

import json

import pytest
from PIL import Image

from gallery_data import build_team_gallery
from test_cli import assert_clean_failure, openfr


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory, engine, samples, sample_paths):
    root = tmp_path_factory.mktemp("cli-gallery")
    team = build_team_gallery(root / "dir", engine, samples, sample_paths)
    (root / "dir" / "P000" / "blank.png").parent.mkdir(exist_ok=True)
    Image.new("RGB", (200, 200), (90, 90, 90)).save(root / "dir" / "P000" / "blank.png")
    manifest = root / "manifest.csv"
    manifest.write_text(
        f"subject_id,name,category,legal_basis\n{team['yao']},Yao Ming,wanted,PACE s.64A custody image\n"
    )
    home = root / "home"
    result = openfr(
        "gallery",
        "import",
        "custody",
        str(root / "dir"),
        "--manifest",
        str(manifest),
        "--json",
        env={"OPENFR_HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    return {"home": home, "team": team, "report": json.loads(result.stdout)}


def test_import_reports_rejections_with_reasons(enrolled):
    report = enrolled["report"]
    assert report["images"] == 2 * enrolled["team"]["subjects"] + 1
    assert report["enrolled"] + report["rejected"] == report["images"]
    blank = [r for r in report["rejections"] if r["image"].endswith("blank.png")]
    assert blank == [{"image": blank[0]["image"], "reason": "no face found"}]


def test_search_json_contract(enrolled, sample_paths):
    env = {"OPENFR_HOME": str(enrolled["home"])}
    result = openfr("search", "custody", str(sample_paths["yaoming"]), "--top", "3", "--json", env=env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [c["rank"] for c in doc["candidates"]] == [1, 2, 3]
    top = doc["candidates"][0]
    assert top["subject"] == enrolled["team"]["yao"] and top["name"] == "Yao Ming"
    assert doc["probe"]["quality"]["usable"] is True and doc["elapsed_ms"] >= 0
    listing = json.loads(openfr("gallery", "list", "--json", env=env).stdout)["galleries"]
    assert listing[0]["name"] == "custody" and listing[0]["subjects"] == enrolled["team"]["subjects"]


def test_search_errors_are_clean(enrolled, tmp_path, sample_paths):
    env = {"OPENFR_HOME": str(enrolled["home"])}
    (tmp_path / "x.jpg").write_text("no")
    assert_clean_failure(openfr("search", "custody", str(tmp_path / "x.jpg"), env=env), 2, "not an image")
    assert_clean_failure(openfr("search", "nope", str(sample_paths["yaoming"]), env=env), 2, "no gallery named")


def test_reembed_moves_the_gallery_to_another_pack(enrolled, tmp_path, sample_paths):
    pytest.importorskip("dlib")
    import shutil

    home = tmp_path / "home"
    shutil.copytree(enrolled["home"], home)
    env = {"OPENFR_HOME": str(home)}
    result = openfr("gallery", "reembed", "custody", "--pack", "dlib", "--json", env=env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["from"].startswith("buffalo_s@") and doc["to"].startswith("dlib@") and doc["templates"] > 0
    stale = openfr("search", "custody", str(sample_paths["yaoming"]), env=env)
    assert_clean_failure(stale, 2, "was built with dlib@")
    fresh = openfr("search", "custody", str(sample_paths["yaoming"]), "--pack", "dlib", "--json", env=env)
    assert json.loads(fresh.stdout)["candidates"][0]["subject"] == enrolled["team"]["yao"]


def test_delete_subject_via_cli(enrolled, tmp_path):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(enrolled["home"], home)
    env = {"OPENFR_HOME": str(home)}
    yao = enrolled["team"]["yao"]
    result = openfr("gallery", "delete-subject", "custody", yao, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["subject"] == yao
    assert_clean_failure(openfr("gallery", "delete-subject", "custody", yao, env=env), 2, "no subject")
