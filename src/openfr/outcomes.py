"""What came of a confirmed live alert: the outcomes an officer records, in one vocabulary for the store, the
settings (which outcomes retention keeps) and the doors. A leaf module, so that settings need no store."""

from __future__ import annotations

OUTCOMES = (
    "not-engaged",  # no officer engaged (e.g. could not be located in time)
    "engaged-not-the-person",  # engaged: the person was not the subject (a false alert found on the street)
    "engaged-no-further-action",  # the subject, no further action
    "engaged-arrest",  # the subject, arrested
    "engaged-safeguarding",  # the subject, safeguarded (missing or vulnerable person)
    "engaged-other",  # the subject, other outcome (see note)
)
