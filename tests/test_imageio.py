import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from openfr.errors import ImageError
from openfr.imageio import iter_image_paths, load_image


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def face_rgb(samples) -> np.ndarray:
    return samples["yaoming"]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "PPM", "BMP", "TIFF"])
def test_common_formats_decode_to_rgb(face_rgb, fmt):
    data = _encode(Image.fromarray(face_rgb), fmt)
    out = load_image(data)
    assert out.dtype == np.uint8 and out.shape == face_rgb.shape
    assert np.abs(out.astype(int) - face_rgb.astype(int)).mean() < 12  # lossy formats stay close


def test_greyscale_pgm_becomes_three_equal_channels(face_rgb):
    grey = Image.fromarray(face_rgb).convert("L")
    out = load_image(_encode(grey, "PPM"))  # Pillow writes mode L as binary PGM (P5)
    assert out.shape == (*face_rgb.shape[:2], 3)
    assert np.array_equal(out[..., 0], out[..., 2])
    assert np.array_equal(out[..., 0], np.asarray(grey))


def test_sixteen_bit_png_keeps_its_contrast():
    ramp = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 8 + 1000).astype(np.uint16)
    out = load_image(_encode(Image.fromarray(ramp), "PNG"))
    assert out[..., 0].min() == 0 and out[..., 0].max() == 255  # stretched, not clipped to white


def test_alpha_is_flattened_on_grey(face_rgb):
    rgba = np.dstack([face_rgb, np.full(face_rgb.shape[:2], 255, np.uint8)])
    rgba[:10, :10, 3] = 0
    out = load_image(_encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert tuple(out[0, 0]) == (128, 128, 128)
    assert np.array_equal(out[50, 50], face_rgb[50, 50])


def test_exif_orientation_is_applied(face_rgb):
    img = Image.fromarray(face_rgb)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    out = load_image(_encode(img, "JPEG", exif=exif.tobytes()))
    h, w = face_rgb.shape[:2]
    assert out.shape[:2] == (w, h)


def test_truncated_jpeg_is_an_error(face_rgb):
    data = _encode(Image.fromarray(face_rgb), "JPEG")
    with pytest.raises(ImageError, match=r"truncated|corrupt"):
        load_image(data[: len(data) // 2])


def test_non_image_and_missing_files(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    with pytest.raises(ImageError, match="not an image"):
        load_image(text)
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="directory"):
        load_image(tmp_path)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height: enough to prove we refuse before decoding."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(ImageError, match="MP exceeds"):
        load_image(_png_header_only(10_000, 10_000))
    with pytest.raises(ImageError, match="MP exceeds"):
        load_image(_png_header_only(5000, 5000), max_pixels=1_000_000)


def test_folders_expand_recursively_to_images(tmp_path, face_rgb):
    (tmp_path / "a" / "b").mkdir(parents=True)
    Image.fromarray(face_rgb).save(tmp_path / "a" / "b" / "x.png")
    Image.fromarray(face_rgb).save(tmp_path / "a" / "y.JPG")
    (tmp_path / "a" / "readme.txt").write_text("x")
    found = iter_image_paths([tmp_path])
    assert [p.name for p in found] == ["x.png", "y.JPG"]
