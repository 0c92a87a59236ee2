"""Alert and match thresholds: the one rule every door applies.

A threshold is a cosine score. The model card's calibrated threshold is a floor, not a default: a lower one
would raise false matches beyond what was measured, and published studies show those fall unevenly on
Black and female faces. NaN or infinity would alert on every face or on none.
"""

from __future__ import annotations

import math

from openfr.errors import BadInputError


def check_threshold(value: float, floor: float) -> float:
    """`value` as a float, if it is a finite score in [-1, 1] and not below `floor` (the model card's
    calibrated threshold); BadInputError otherwise."""
    if not isinstance(value, int | float) or not math.isfinite(value) or not -1.0 <= value <= 1.0:
        raise BadInputError(f"threshold {value!r} is not a score between -1 and 1")
    if value < floor:
        raise BadInputError(f"threshold {value} is below the model's calibrated {floor:.3f} (locked)")
    return float(value)
