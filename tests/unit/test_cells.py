"""CSV cells a spreadsheet would run as a formula get a leading `'` (app.core.cells); any other
value, a negative number included, is written as it is, and a row needing none is not copied."""

from __future__ import annotations

import pytest

from app.core.cells import csv_cell, csv_row

FORMULAS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tx", "\rx"]
PLAIN = ["Alpha Lending", "", None, -2, 1.5, "a=b", "x-1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_gets_a_quote_in_a_cell_and_in_a_row(text: str) -> None:
    assert csv_cell(text) == "'" + text
    row = ["Alpha Lending", text, -2, None]
    assert list(csv_row(row)) == ["Alpha Lending", "'" + text, -2, None]


@pytest.mark.parametrize("value", PLAIN)
def test_anything_else_is_left_alone(value: object) -> None:
    assert csv_cell(value) == value


def test_a_row_with_no_formula_is_the_row_itself() -> None:
    row = ("Alpha Lending", "", None, -2, 1.5, "a=b")
    assert csv_row(row) is row
