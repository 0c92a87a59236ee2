"""Settings of governance: how long records are kept and how often they are purged (retention), and where
the audit trail's sealed checkpoints are witnessed outside openfr (audit anchor).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from openfr.outcomes import OUTCOMES
from openfr.settings.section import Section


class RetentionSettings(Section):
    """How long openfr keeps what it records, and how often it purges (inside `openfr serve`)."""

    alert_days: float = Field(
        31.0,
        ge=0.0,
        title="Alert retention (days)",
        description=(
            "Alerts (the row and its face crop) are deleted this long after they were raised, unless their "
            "outcome is one of keep_outcomes. Longer keeps evidence for complaints and review; the crop is a "
            "biometric image of someone who may not have been the subject."
        ),
    )
    keep_outcomes: list[str] = Field(
        ["engaged-arrest", "engaged-safeguarding"],
        title="Alert outcomes kept beyond the retention",
        description=(
            "Alerts with these outcomes are kept (their case's own retention applies, outside openfr's "
            "schedule): an arrest or a safeguarding action may need the alert as evidence."
        ),
    )

    @field_validator("keep_outcomes")
    @classmethod
    def _known_outcomes(cls, value: list[str]) -> list[str]:
        if unknown := sorted(set(value) - set(OUTCOMES)):
            raise ValueError(f"unknown outcomes {unknown}; known: {', '.join(OUTCOMES)}")
        return value

    search_days: float = Field(
        365.0,
        ge=0.0,
        title="Search record retention (days)",
        description=(
            "Records of retrospective and operator-initiated searches (who, why, the candidates returned; "
            "never the probe) are deleted this long after the search. They answer audits and subject access "
            "requests: shorter protects the people returned as candidates, longer keeps searches accountable."
        ),
    )
    interval_minutes: float = Field(
        60.0,
        gt=0.0,
        title="Purge interval inside openfr serve (minutes)",
        description=(
            "How often a running server closes expired deployments and erases what is past its retention. "
            "`openfr purge` does the same once, for installations without a server."
        ),
    )


class AuditSettings(Section):
    anchor: str | None = Field(
        None,
        title="External copy of the audit checkpoints",
        description=(
            "Also append every sealed checkpoint of the audit trail to a sink outside openfr's reach. `syslog`: "
            "one line per checkpoint to the local syslog socket (facility authpriv), which a syslog daemon can "
            "forward off the machine; `openfr audit verify` cannot read it back, so compare it by hand. "
            "`file:/absolute/path`: a file on another mount (its folder must exist), appended and fsynced like "
            "the checkpoint file, which verify reads too. Either costs one more write per change; with neither, "
            "someone able to edit the database and the checkpoint file can cut the newest events unseen."
        ),
    )

    @field_validator("anchor")
    @classmethod
    def _known_anchor(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if value == "syslog":
            return value
        if value.startswith("file:") and Path(value.removeprefix("file:")).is_absolute():
            return value
        raise ValueError(
            "must be 'syslog' or 'file:' followed by an absolute path, e.g. file:/mnt/witness/openfr.jsonl"
        )
