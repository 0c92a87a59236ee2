"""Alert and match thresholds: the one rule every door applies.

A threshold is a cosine score. The model card's calibrated threshold is a floor, not a default: a lower one
would raise false matches beyond what was measured, and published studies show those fall unevenly on
Black and female faces. NaN or infinity would alert on every face or on none. A live threshold also needs
the pack's identification calibration (false alerts grow with the watchlist): without one, every live act
is refused here (`live_calibration`), whichever service or door asks.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from openfr.errors import BadInputError
from openfr.identification import calibration_for, require_calibration

if TYPE_CHECKING:
    from openfr.engine.packs.base import ModelCard
    from openfr.identification import IdentificationCalibration


def check_threshold(value: float, floor: float) -> float:
    """`value` as a float, if it is a finite score in [-1, 1] and not below `floor` (the model card's
    calibrated threshold); BadInputError otherwise."""
    if not isinstance(value, int | float) or not math.isfinite(value) or not -1.0 <= value <= 1.0:
        raise BadInputError(f"threshold {value!r} is not a score between -1 and 1")
    if value < floor:
        raise BadInputError(f"threshold {value} is below the model's calibrated {floor:.3f} (locked)")
    return float(value)


def identification_threshold(
    card: ModelCard, gallery_size: int, target_fpir: float, *, at_least: float | None = None
) -> float:
    """The lowest threshold at which a 1:N comparison against `gallery_size` people (a custody gallery
    searched from a phone, a subject access photo) is expected to put a stranger forward with probability at
    most `target_fpir`, for the worst demographic group the pack's identification calibration measured;
    never below the 1:1 threshold. A search with a pack without a calibration has only its 1:1 threshold and
    says so in words (describe_chance); a live deployment is refused instead (live_floor). `at_least`: an
    installation's own higher match threshold, which may only raise it."""
    calibration = calibration_for(card)
    floor = (
        card.threshold if calibration is None else calibration.threshold_for(gallery_size, target_fpir, card.threshold)
    )
    return floor if at_least is None else max(floor, at_least)


def live_calibration(card: ModelCard) -> IdentificationCalibration:
    """The calibration every live act needs (plan, authorise, start, `watch`): UncalibratedPackError, with
    the command that makes one, for a pack without one. A 1:1 threshold is no live threshold: a camera
    compares each face with everyone on the watchlist."""
    return require_calibration(card)


def live_floor(card: ModelCard, watchlist_size: int, target_fpir: float, *, at_least: float | None = None) -> float:
    """The lowest threshold a live deployment (or `openfr watch`) may use against `watchlist_size` people: the
    identification threshold at the live target rate. Refused for a pack without a calibration."""
    floor = live_calibration(card).threshold_for(watchlist_size, target_fpir, card.threshold)
    return floor if at_least is None else max(floor, at_least)


def false_match_chance(card: ModelCard, threshold: float, gallery_size: int) -> float | None:
    """The chance (worst group) that comparing one stranger with `gallery_size` people at `threshold` puts
    anyone forward: a search's expected false-candidate rate. None without an identification calibration."""
    calibration = calibration_for(card)
    return None if calibration is None else calibration.fpir(threshold, gallery_size)


def describe_chance(chance: float | None) -> str:
    """For people: "about 1 in 1,000 searches of someone not in the gallery lists a false candidate"."""
    if chance is None:
        return "unknown: this model pack has no identification calibration, so false candidates grow with the gallery"
    if chance <= 0:
        return "none expected from the calibration's data"
    one_in = max(1, round(1 / chance))
    return f"about 1 in {one_in:,} searches of someone who is not in the gallery lists a false candidate"


def expected_false_alerts(card: ModelCard, threshold: float, watchlist_size: int, faces: int = 100_000) -> float | None:
    """False alerts expected per `faces` strangers at `threshold` against `watchlist_size` people (worst
    group), or None for a pack without an identification calibration."""
    calibration = calibration_for(card)
    return None if calibration is None else calibration.false_alerts_per(threshold, watchlist_size, faces)


def identification_section(card: ModelCard, target_fpir: float) -> dict | None:
    """The model card's identification figures: the live threshold per watchlist size at the target rate,
    the false alerts expected there, and each group's false-match rate at that threshold."""
    calibration = calibration_for(card)
    if calibration is None:
        return None
    rows = calibration.table(target_fpir, card.threshold)
    for row in rows:
        row["worst_group"] = calibration.fmr(row["threshold"])[1]
        row["group_fmr"] = {g["group"]: g["fmr"] for g in calibration.group_rates(row["threshold"])}
    return {"target_fpir": target_fpir, "source": calibration.source, "thresholds": rows}


def group_rates(card: ModelCard, threshold: float) -> list[dict]:
    """Each calibrated group's false-match rate per comparison at `threshold` (empty without a calibration):
    what the authorising officer sees next to the threshold."""
    calibration = calibration_for(card)
    return [] if calibration is None else calibration.group_rates(threshold)
