"""The short cut of parse_timestamp for Flinks' own shape gives exactly what the exact path
gives: the same instant, or the same refusal."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.flinks.timestamps import exact_timestamp, parse_timestamp


def _outcome(parse: object, text: str) -> tuple[str, object]:
    try:
        parsed = parse(text)  # type: ignore[operator]
    except ValueError:
        return "refused", None
    return "parsed", (parsed, parsed.tzinfo)


_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=1)
# Flinks' shape with any character, of a set near it, at any one place.
_NEAR = st.sampled_from([*"0123456789-T:.Z tz+٣\u00a0", "", "00"])


@st.composite
def _near_flinks(draw: st.DrawFn) -> str:
    when = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    text = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}" + draw(_DIGITS) + "Z"
    text = text.rjust(28, "0")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(_NEAR) + text[at + 1 :]
    return text


@given(_near_flinks())
def test_the_short_cut_agrees_with_the_exact_path(text: str) -> None:
    assert _outcome(parse_timestamp, text) == _outcome(exact_timestamp, text)


@pytest.mark.parametrize(
    "text",
    [
        "2023-06-14T15:23:11.123456 Z",  # fromisoformat alone would take the space
        "2023-06-14T15:23:11.12345٦7Z",  # a digit that is not ASCII
        "2023-02-30T15:23:11.1234567Z",  # no such day
        "0001-01-01T23:00:00.0000000Z",  # before 0001-01-02
        "9999-12-31T00:00:00.0000000Z",  # after 9999-12-30
        "2023-06-14T24:00:00.0000000Z",
    ],
)
def test_what_the_exact_path_refuses_the_short_cut_refuses_alike(text: str) -> None:
    with pytest.raises(ValueError, match=r".") as exact:  # its own words, whatever they are
        exact_timestamp(text)
    with pytest.raises(ValueError, match=re.escape(str(exact.value))):
        parse_timestamp(text)


def test_flinks_shape_is_utc_with_the_seventh_digit_dropped() -> None:
    parsed = parse_timestamp("2024-02-29T14:24:42.6055689Z")

    assert parsed == datetime(2024, 2, 29, 14, 24, 42, 605568, tzinfo=UTC)
    assert parsed.tzinfo is UTC
