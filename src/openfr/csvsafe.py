"""CSV for spreadsheets, safe from formula injection.

A cell that starts with = + - @ (or a tab or carriage return) is run as a formula by Excel, LibreOffice and
Google Sheets. Free text reaches our exports from outside (a failed sign-in's username, a search reason, a
deployment's location), so such a cell is prefixed with an apostrophe, as OWASP advises: the spreadsheet
shows the text and runs nothing. The JSON exports keep every value exactly (the audit trail's JSON lines
re-verify; its CSV is for reading).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(TRIGGERS) else text


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()
