"""`openfr gallery ...` and `openfr search`: the CLI contract on the embedded default."""

import json
import shutil

import pytest
from PIL import Image

from actors import PASSWORD, TEMPORARY, cli_login
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
        f"subject_id,name,category,legal_basis\n{team['yao']},Yao Ming,wanted-serious-offence,PACE s.64A\n"
    )
    home = root / "home"
    env = {"OPENFR_HOME": str(home)}
    _account(env, "admin", "admin")
    cli_login(env, "admin")
    _account(env, "inv", "investigator", TEMPORARY)  # made by the administrator: its owner replaces the password
    cli_login(env, "inv", TEMPORARY)
    changed = openfr("passwd", "--password-stdin", env=env, stdin=f"{TEMPORARY}\n{PASSWORD}\n")
    assert changed.returncode == 0, changed.stderr
    cli_login(env, "admin")
    result = openfr(
        "gallery",
        "import",
        "custody",
        str(root / "dir"),
        "--manifest",
        str(manifest),
        "--create",
        "--purpose",
        "custody images for the CLI tests",
        "--use",  # its manifest marks one person wanted: a watchlist category, for a live source
        "live",
        "--use",
        "rfr",
        "--json",
        env={"OPENFR_HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    cli_login(env, "inv")  # searches are an investigator's; the tests that change the gallery sign in as admin
    return {"home": home, "team": team, "report": json.loads(result.stdout)}


def _account(env: dict, name: str, role: str, password: str = PASSWORD) -> None:
    done = openfr("user", "create", name, "--role", role, "--password-stdin", env=env, stdin=password + "\n")
    assert done.returncode == 0, done.stderr


def test_a_wrong_manifest_category_or_subject_folder_is_refused_before_anything_is_stored(
    enrolled, tmp_path, sample_paths
):
    env = {"OPENFR_HOME": str(enrolled["home"])}
    (tmp_path / "dir" / "bad name!").mkdir(parents=True)
    (tmp_path / "dir" / "bad name!" / "x.png").write_bytes(b"")
    refused = openfr("gallery", "import", "custody", str(tmp_path / "dir"), env=env)
    assert_clean_failure(refused, 2, "not valid subject references")
    (tmp_path / "manifest.csv").write_text("subject_id,category\nP000,intelligence\n")
    shutil.rmtree(tmp_path / "dir" / "bad name!")
    (tmp_path / "dir" / "P000").mkdir()
    shutil.copy(sample_paths["yaoming"], tmp_path / "dir" / "P000" / "1.jpg")
    refused = openfr(
        "gallery", "import", "c2", str(tmp_path / "dir"), "--manifest", str(tmp_path / "manifest.csv"), env=env
    )
    assert_clean_failure(refused, 2, "unknown category 'intelligence'")
    listing = json.loads(openfr("gallery", "list", "--json", env=env).stdout)["galleries"]
    assert [g["name"] for g in listing] == ["custody"]  # nothing was created


def test_import_reports_rejections_with_reasons(enrolled):
    report = enrolled["report"]
    assert report["images"] == 2 * enrolled["team"]["subjects"] + 1
    assert report["enrolled"] + report["rejected"] == report["images"]
    blank = [r for r in report["rejections"] if r["image"].endswith("blank.png")]
    assert blank == [{"image": blank[0]["image"], "reason": "no face found"}]


def test_search_json_contract(enrolled, sample_paths):
    env = {"OPENFR_HOME": str(enrolled["home"])}
    result = openfr(
        "search", "custody", str(sample_paths["yaoming"]), "--top", "3", "--reason", "test", "--json", env=env
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [c["rank"] for c in doc["candidates"]] == [1] and doc["show_all"] is False  # the others score below
    every = ["search", "custody", str(sample_paths["yaoming"]), "--top", "3", "--reason", "test", "--show-all"]
    doc = json.loads(openfr(*every, "--json", env=env).stdout)
    assert [c["rank"] for c in doc["candidates"]] == [1, 2, 3] and doc["show_all"] is True
    top = doc["candidates"][0]
    assert top["subject"] == enrolled["team"]["yao"] and top["name"] == "Yao Ming"
    assert doc["probe"]["quality"]["usable"] is True and doc["elapsed_ms"] >= 0
    listing = json.loads(openfr("gallery", "list", "--json", env=env).stdout)["galleries"]
    assert listing[0]["name"] == "custody" and listing[0]["subjects"] == enrolled["team"]["subjects"]


def test_search_errors_are_clean(enrolled, tmp_path, sample_paths):
    env = {"OPENFR_HOME": str(enrolled["home"])}
    (tmp_path / "x.jpg").write_text("no")
    why = ["--reason", "test"]
    assert_clean_failure(openfr("search", "custody", str(tmp_path / "x.jpg"), *why, env=env), 2, "not an image")
    assert_clean_failure(openfr("search", "nope", str(sample_paths["yaoming"]), *why, env=env), 2, "no gallery named")
    assert_clean_failure(openfr("search", "custody", str(sample_paths["yaoming"]), env=env), 2, "needs a reason")


def test_reembed_moves_the_gallery_to_another_pack(enrolled, tmp_path, sample_paths):
    pytest.importorskip("dlib")
    import shutil

    home = tmp_path / "home"
    shutil.copytree(enrolled["home"], home)
    env = {"OPENFR_HOME": str(home)}
    cli_login(env, "admin")
    result = openfr("gallery", "reembed", "custody", "--pack", "dlib", "--json", env=env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["from"].startswith("buffalo_s@") and doc["to"].startswith("dlib@") and doc["templates"] > 0
    cli_login(env, "inv")
    stale = openfr("search", "custody", str(sample_paths["yaoming"]), "--reason", "test", env=env)
    assert_clean_failure(stale, 2, "was built with dlib@")
    fresh = openfr(
        "search", "custody", str(sample_paths["yaoming"]), "--pack", "dlib", "--reason", "test", "--json", env=env
    )
    assert json.loads(fresh.stdout)["candidates"][0]["subject"] == enrolled["team"]["yao"]


def test_delete_subject_via_cli(enrolled, tmp_path):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(enrolled["home"], home)
    env = {"OPENFR_HOME": str(home)}
    yao = enrolled["team"]["yao"]
    refused = openfr("gallery", "delete-subject", "custody", yao, "--reason", "x", env=env)
    assert_clean_failure(refused, 2, "may not gallery.delete")  # signed in as the investigator
    cli_login(env, "admin")
    assert_clean_failure(openfr("gallery", "delete-subject", "custody", yao, env=env), 2, "reason is required")
    unconfirmed = openfr("gallery", "delete-subject", "custody", yao, "--reason", "acquitted", env=env)
    assert_clean_failure(unconfirmed, 2, "add --yes")  # no terminal to ask on: nothing is deleted
    result = openfr("gallery", "delete-subject", "custody", yao, "--reason", "acquitted", "--yes", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["subject"] == yao
    gone = openfr("gallery", "delete-subject", "custody", yao, "--reason", "again", env=env)
    assert_clean_failure(gone, 2, "no subject")
