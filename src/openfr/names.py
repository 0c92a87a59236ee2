"""Names people give to galleries and deployments, and the references of subjects: checked in one place.

A name is what appears in URLs, commands and the audit trail, so it is short, plain and unambiguous: letters,
digits, '.', '_' and '-', starting with a letter or digit. A name made only of digits is refused, so that no
name can ever be mistaken for a database id (ids are never accepted where a name is expected).
"""

from __future__ import annotations

import re

from openfr.errors import BadInputError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def check_name(kind: str, text: str) -> str:
    """A gallery or deployment name, stripped; BadInputError says what a valid one looks like."""
    name = (text or "").strip()
    if not _NAME.match(name) or ".." in name:
        raise BadInputError(
            f"{kind} name {name!r}: 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(e.g. custody-2026 or oxford-circus-2026-11-22)"
        )
    if name.isdigit():
        raise BadInputError(f"{kind} name {name!r}: a name cannot be only digits (it would read as an id)")
    return name


def check_reference(text: str) -> str:
    """A subject's reference in its gallery (custody record, case or missing-person number)."""
    reference = (text or "").strip()
    if not _REFERENCE.match(reference) or ".." in reference:
        raise BadInputError(
            f"subject reference {reference!r}: letters, digits, '.', '_' or '-', up to 200, e.g. CUST-2026-0042"
        )
    return reference
