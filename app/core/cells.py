"""PURE: a cell of a CSV file we write, made safe to open in a spreadsheet.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`): such a
cell gets a leading `'` (OWASP's rule), which spreadsheets show as text and hide. Numbers are
left alone (a negative duration is a number, not a formula); JSON is never touched.
"""

from __future__ import annotations

from collections.abc import Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """`value`, or the text with a leading `'` if a spreadsheet would run it as a formula."""
    if type(value) is str and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Sequence[object]) -> Sequence[object]:
    """Every cell of one row through csv_cell; the row itself when no cell needs it (the web
    exports write 100,000 rows: almost none is copied)."""
    for value in values:
        if type(value) is str and value.startswith(FORMULA_STARTS):
            return [csv_cell(v) for v in values]
    return values
