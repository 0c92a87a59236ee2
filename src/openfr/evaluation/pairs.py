"""LFW-format pair files: `name n1 n2` (same person) or `name1 n1 name2 n2` (different people)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openfr.errors import BadInputError


@dataclass(frozen=True, slots=True)
class Pair:
    a: Path
    b: Path
    same: bool


def _image(root: Path, name: str, number: str, suffix: str) -> Path:
    return root / name / f"{name}_{int(number):04d}{suffix}"


def read_pairs(pairs_file: Path, images_root: Path, suffix: str = ".jpg") -> list[Pair]:
    """Parse an LFW pairs file; the first line may be a header (`10 300` or `1100`) and is skipped."""
    try:
        lines = pairs_file.read_text().splitlines()
    except FileNotFoundError:
        raise BadInputError(f"{pairs_file}: no such file") from None
    pairs: list[Pair] = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or (number == 1 and all(f.isdigit() for f in fields)):
            continue
        if len(fields) == 3:
            name, n1, n2 = fields
            pairs.append(Pair(_image(images_root, name, n1, suffix), _image(images_root, name, n2, suffix), True))
        elif len(fields) == 4:
            name1, n1, name2, n2 = fields
            pairs.append(Pair(_image(images_root, name1, n1, suffix), _image(images_root, name2, n2, suffix), False))
        else:
            raise BadInputError(f"{pairs_file}:{number}: expected 3 or 4 fields, got {len(fields)}")
    if not pairs:
        raise BadInputError(f"{pairs_file}: no pairs found")
    return pairs
