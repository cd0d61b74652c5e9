"""How errors, durations and dates are written (app.core.text) and the Retry-After header read
from any mapping (app.core.retry_after.header), table-driven: the exact text a person reads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest

from app.core.retry_after import header, retry_after_seconds
from app.core.text import iso_z, local_day, one_line, short_duration

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)  # 23:30 on the 9th in Toronto


@pytest.mark.parametrize(
    ("error", "limit", "expected"),
    [
        (OSError("disk\n  I/O   error\nmore"), 300, "OSError: disk"),
        (OSError("\n\n  disk   I/O error  \nmore"), 300, "OSError: disk I/O error"),
        (ValueError(""), 300, "ValueError"),
        (ValueError(" \n "), 300, "ValueError"),
        ("plain   text\nsecond", 300, "plain text"),
        ("", 300, ""),
        ("abcdef", 3, "abc"),
        (KeyError("k"), 9, "KeyError:"),
    ],
)
def test_one_line(error: BaseException | str, limit: int, expected: str) -> None:
    assert one_line(error, limit) == expected


def test_one_line_is_cut_at_300_by_default() -> None:
    assert one_line("x" * 400) == "x" * 300


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=9, hours=4, minutes=5), "9d 4h"),
        (timedelta(days=2, minutes=5), "2d"),  # `2d 0h` says less than `2d`
        (timedelta(hours=3, minutes=20, seconds=9), "3h 20m"),
        (timedelta(minutes=1), "1m"),
        (timedelta(seconds=60), "1m"),
        (timedelta(seconds=59), "59s"),
        (timedelta(minutes=2, seconds=1), "2m 1s"),
        (timedelta(seconds=1), "1s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=-30), "0s"),
        (timedelta(days=1, hours=1, minutes=1, seconds=1), "1d 1h"),
    ],
)
def test_short_duration(delta: timedelta, expected: str) -> None:
    assert short_duration(delta) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 3, 10, 1, 0, tzinfo=UTC), "2026-03-09 (today)"),  # the 9th in Toronto
        (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), "2026-03-08 (1 day ago)"),
        (datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "2026-03-07 (2 days ago)"),
        (datetime(2026, 2, 7, 12, 0, tzinfo=UTC), "2026-02-07 (30 days ago)"),
        (datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "2026-03-10 (in 1 day)"),
        (datetime(2026, 3, 11, 12, 0, tzinfo=UTC), "2026-03-11 (in 2 days)"),
    ],
)
def test_local_day_counts_calendar_days_in_the_zone(value: datetime, expected: str) -> None:
    assert local_day(value, TORONTO, NOW) == expected


def test_iso_z_is_utc_with_a_z() -> None:
    assert iso_z(datetime(2026, 3, 9, 23, 30, tzinfo=TORONTO)) == "2026-03-10T03:30:00Z"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, "7"),
        ({"content-type": "x", "retry-after": "8"}, "8"),
        ({"RETRY-AFTER": ["9", "10"]}, "9"),
        ({"Retry-After": []}, None),
        ({"Retry-Later": "7"}, None),
        ({}, None),
    ],
)
def test_retry_after_header_in_any_case_the_first_of_a_list(
    headers: dict[str, object], expected: object
) -> None:
    assert header(headers) == expected


@pytest.fixture
def far_east_process_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's own zone (TZ) far from UTC: what is written must not depend on it."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("far_east_process_zone")
def test_iso_z_does_not_depend_on_the_process_zone() -> None:
    assert iso_z(datetime(2026, 3, 10, 3, 30, tzinfo=UTC)) == "2026-03-10T03:30:00Z"


def test_retry_after_zero_and_a_date_read_against_the_clock() -> None:
    assert retry_after_seconds("0") == 0.0  # no lower bound unless the caller sets one
    in_an_hour = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    seconds = retry_after_seconds(in_an_hour)  # against the clock: no `now` given
    assert seconds is not None
    assert 3590 < seconds <= 3600


def test_without_bidi_takes_out_every_bidirectional_control_and_copies_no_plain_text() -> None:
    from markupsafe import Markup

    from app.core.text import BIDI_CONTROLS, without_bidi

    hostile = "Alpha\u202eLending" + "".join(sorted(BIDI_CONTROLS)) + "\u2069!"
    assert without_bidi(hostile) == "AlphaLending!"
    plain = "Alpha Lending \u200f é"  # a right-to-left *mark* is not a control: kept
    assert without_bidi(plain) is plain  # nothing to take out: the text itself, not a copy
    marked = without_bidi(Markup("<b>\u2066x\u2069</b>"))
    assert (type(marked), marked) == (Markup, Markup("<b>x</b>"))
