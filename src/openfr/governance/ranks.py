"""Police ranks, in order of seniority: what an authorising officer's authority rests on.

The College of Policing's guidance on live facial recognition asks for an authorising officer of
superintendent rank or above (an inspector only for urgent authority). openfr records the rank an account
holds with every authorisation, and refuses one below `live.authoriser_min_rank`.

The Metropolitan Police and the City of London name their senior ranks differently from county forces; the
ranks that stand level share a place in the order (a commander stands with an assistant chief constable).
"""

from __future__ import annotations

from openfr.errors import BadInputError

# Each rank with its place in the order: higher is more senior.
SENIORITY: dict[str, int] = {
    "constable": 1,
    "sergeant": 2,
    "inspector": 3,
    "chief-inspector": 4,
    "superintendent": 5,
    "chief-superintendent": 6,
    "commander": 7,
    "assistant-chief-constable": 7,
    "deputy-assistant-commissioner": 8,
    "deputy-chief-constable": 8,
    "assistant-commissioner": 9,
    "chief-constable": 9,
    "deputy-commissioner": 10,
    "commissioner": 11,
}
RANKS = tuple(SENIORITY)


def parse_rank(text: str) -> str:
    """The rank's key ("Chief Superintendent" -> "chief-superintendent"), or a BadInputError naming the list."""
    key = "-".join((text or "").strip().lower().replace("_", " ").replace("-", " ").split())
    if key not in SENIORITY:
        raise BadInputError(f"unknown rank '{(text or '')[:40]}' (one of: {', '.join(RANKS)})")
    return key


def at_least(rank: str | None, minimum: str) -> bool:
    """Whether `rank` is `minimum` or more senior (no rank recorded: never)."""
    return rank is not None and SENIORITY.get(rank, 0) >= SENIORITY[minimum]


def label(rank: str | None) -> str:
    return rank.replace("-", " ").capitalize() if rank else "no rank recorded"
