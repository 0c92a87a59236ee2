"""Safe image loading: any common format in, an upright RGB uint8 array out, or a clear `ImageError`.

Pillow decodes (JPEG, PNG, WebP, GIF, PGM/PPM, BMP, TIFF); we add the guards an evidential system needs:
the pixel count is checked from the header *before* decoding (decompression bombs), truncated files are
errors rather than grey padding, EXIF orientation is applied, and 16-bit, greyscale, palette and alpha
images are normalised the same way every time.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from openfr.errors import ImageError

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".pgm", ".ppm", ".pbm", ".pnm", ".bmp", ".tif", ".tiff"}
)

# Never fill a truncated file with grey: a half image must not silently become a template.
ImageFile.LOAD_TRUNCATED_IMAGES = False


def load_image(
    source: str | Path | bytes, *, max_pixels: int = 40_000_000, working_pixels: int | None = None
) -> np.ndarray:
    """Decode `source` (a path or the file's bytes) into an H x W x 3 RGB uint8 array. `working_pixels`:
    an image larger than this is shrunk by a whole factor while decoding (JPEG decodes straight at the
    smaller size), so one huge upload cannot take the server's memory; faces keep their proportions."""
    name = "image" if isinstance(source, bytes) else str(source)
    try:
        fp = io.BytesIO(source) if isinstance(source, bytes) else Path(source).open("rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a directory, not an image") from None
    except PermissionError:
        raise ImageError(f"{name}: permission denied") from None
    with fp, warnings.catch_warnings():
        # We enforce our own limit below; Pillow's warning would only duplicate it.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(fp)
        except UnidentifiedImageError:
            raise ImageError(f"{name}: not an image (unrecognised format)") from None
        except Image.DecompressionBombError as exc:
            raise ImageError(f"{name}: refused, {exc}") from None
        except OSError as exc:
            raise ImageError(f"{name}: unreadable ({exc})") from None
        width, height = img.size
        if width * height > max_pixels:
            raise ImageError(
                f"{name}: refused, {width}x{height} = {width * height / 1e6:.1f} MP exceeds the "
                f"{max_pixels / 1e6:.0f} MP limit (OPENFR_ENGINE__MAX_IMAGE_PIXELS)"
            )
        if width < 8 or height < 8:
            raise ImageError(f"{name}: too small ({width}x{height})")
        try:
            factor = _shrink_factor(width * height, working_pixels)
            if factor > 1 and img.format == "JPEG":
                img.draft("RGB", (width // factor, height // factor))  # DCT scaling: never decoded at full size
            img.load()
            factor = _shrink_factor(img.size[0] * img.size[1], working_pixels)
            if factor > 1:
                img = img.reduce(factor)
            img = ImageOps.exif_transpose(img)
            return _to_rgb(img)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise ImageError(f"{name}: corrupt or truncated image ({exc})") from None


def _shrink_factor(pixels: int, limit: int | None) -> int:
    return 1 if limit is None or pixels <= limit else math.ceil(math.sqrt(pixels / limit))


def _to_rgb(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit / 32-bit greyscale: stretch the actual range into 8 bits (PIL's convert would clip).
        arr = np.asarray(img, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        grey = arr.round().astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "RGB" and "transparency" in img.info):
        # Flatten transparency onto mid-grey, a neutral background for the detector.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        img = Image.alpha_composite(background, rgba)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))


def iter_image_paths(paths: list[Path]) -> list[Path]:
    """Expand folders (recursively, sorted) into image files; explicit files are kept whatever their suffix."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            out.append(path)
    return out
