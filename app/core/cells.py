"""PURE: a cell of a CSV file we write, made safe to open in a spreadsheet.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`): such a
cell gets a leading `'` (OWASP's rule), which spreadsheets show as text and hide. Numbers are
left alone (a negative duration is a number, not a formula); JSON is never touched.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = frozenset("=+-@\t\r")


def csv_cell(value: object) -> object:
    """`value`, or the text with a leading `'` if a spreadsheet would run it as a formula."""
    if type(value) is str and value and value[0] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_row(values: Iterable[object]) -> list[object]:
    """Every cell of one row through csv_cell (the web exports write many rows: kept cheap)."""
    return ["'" + v if type(v) is str and v and v[0] in FORMULA_STARTS else v for v in values]
