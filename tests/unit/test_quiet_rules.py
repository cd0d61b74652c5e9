"""Quiet hours as plain values (app.core.quiet): parsing, windows across midnight and named days,
daylight-saving nights in ALERT_TIMEZONE, and what breaks through."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.digest import Digest
from app.core.quiet import (
    QuietHours,
    Window,
    breakthrough_kinds,
    labels,
    parse_quiet_hours,
    quiet_interval,
)
from app.delivery import PendingDelivery
from app.domain import BaselineSummary, EventKind, RemovalsHeld
from tests.builders import NOW, event

TORONTO = ZoneInfo("America/Toronto")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TORONTO)


def test_parse_windows_with_days_and_comma_separated_day_lists() -> None:
    assert parse_quiet_hours("mon-fri 19:00-08:00, sat,sun 00:00-24:00") == (
        Window(19 * 60, 8 * 60, frozenset({0, 1, 2, 3, 4})),
        Window(0, 24 * 60, frozenset({5, 6})),
    )
    assert parse_quiet_hours("22:00-07:00") == (Window(22 * 60, 7 * 60, None),)
    assert parse_quiet_hours("") == ()
    assert parse_quiet_hours("fri-mon 20:00-23:00")[0].days == frozenset({4, 5, 6, 0})


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("19:00", "not a window"),
        ("mon-fri", "has days but no"),
        ("funday 10:00-11:00", "not a day"),
        ("10:00-10:00", "cannot start and end"),
        ("25:00-26:00", "not a time of day"),
    ],
)
def test_bad_windows_are_refused_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_quiet_hours(text)


def test_a_window_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    windows = parse_quiet_hours("mon-fri 19:00-08:00")
    friday_night = quiet_interval(local("2026-12-04T23:00"), windows, TORONTO)
    assert friday_night == (local("2026-12-04T19:00"), local("2026-12-05T08:00"))
    assert quiet_interval(local("2026-12-05T09:00"), windows, TORONTO) is None  # Saturday
    assert quiet_interval(local("2026-12-07T07:00"), windows, TORONTO) is None  # Sunday night
    assert quiet_interval(local("2026-12-04T18:59"), windows, TORONTO) is None


def test_adjacent_windows_make_one_quiet_interval() -> None:
    windows = parse_quiet_hours("fri 19:00-24:00, sat,sun 00:00-24:00")
    found = quiet_interval(local("2026-12-05T12:00"), windows, TORONTO)
    assert found == (local("2026-12-04T19:00"), local("2026-12-07T00:00"))


def test_spring_forward_night_is_one_shorter_window_not_lost() -> None:
    # 2026-03-08 02:00 EST -> 03:00 EDT in Toronto.
    windows = parse_quiet_hours("22:00-06:00")
    night = quiet_interval(local("2026-03-08T01:30"), windows, TORONTO)
    assert night is not None
    assert night == (local("2026-03-07T22:00"), local("2026-03-08T06:00"))
    assert night[1] - night[0] == timedelta(hours=7)
    assert quiet_interval(local("2026-03-08T06:00"), windows, TORONTO) is None


def test_a_window_inside_the_skipped_hour_still_exists_once() -> None:
    windows = parse_quiet_hours("02:00-02:30")
    instant = datetime(2026, 3, 8, 7, 15, tzinfo=UTC)  # 02:15 EST would be; it is 03:15 EDT
    found = quiet_interval(instant, windows, TORONTO)
    assert found is not None
    assert found[0] == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # read with the old offset
    assert found[1] - found[0] == timedelta(minutes=30)


def test_fall_back_night_is_one_longer_window_not_two() -> None:
    # 2026-11-01 02:00 EDT -> 01:00 EST: the hour 01:00-02:00 happens twice.
    windows = parse_quiet_hours("22:00-06:00")
    night = quiet_interval(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), windows, TORONTO)
    assert night is not None
    assert night[1] - night[0] == timedelta(hours=9)
    for hour in range(2, 11):  # every UTC hour of that night is in the same interval
        at = datetime(2026, 11, 1, hour, tzinfo=UTC)
        assert quiet_interval(at, windows, TORONTO) == night
    assert quiet_interval(night[1], windows, TORONTO) is None


def test_breakthrough_labels() -> None:
    backward = PendingDelivery(
        1, 1, "slack", 0, event=event(from_status="ACTIVE", to_status="PENDING_APPROVAL")
    )
    forward = PendingDelivery(2, 1, "slack", 0, event=event())
    held = PendingDelivery(
        3, 1, "slack", 0, summary=RemovalsHeld(1, NOW, 0, (), present=9, listed=1)
    )
    assert labels(backward) == {"status_changed", "backward"}
    assert labels(forward) == {"status_changed"}
    assert labels(held) == {"watcher"}
    assert labels(PendingDelivery(4, 1, "slack", 0, event=event(EventKind.REMOVED))) == {"removed"}
    assert breakthrough_kinds("backward, removed,watcher") == {"backward", "removed", "watcher"}
    with pytest.raises(ValueError, match="unknown nope"):
        breakthrough_kinds("nope")


def test_a_digest_goes_through_quiet_hours_and_held_alerts_stay_held() -> None:
    from tests.unit.test_golden import DIGEST_CONTENT

    quiet = QuietHours(parse_quiet_hours("00:00-24:00"), TORONTO, frozenset())
    digest = PendingDelivery(
        5, 1, "slack", 0, summary=Digest(0, NOW, 0, (), digest_id=1, content=DIGEST_CONTENT)
    )
    alert = PendingDelivery(6, 1, "slack", 0, event=event(), created_at=NOW)
    assert quiet.quiet_at(NOW)
    assert quiet.breaks_through(digest)
    assert not quiet.breaks_through(alert)


def test_a_held_alert_is_released_at_the_instant_its_quiet_interval_ends() -> None:
    quiet = QuietHours(parse_quiet_hours("22:00-07:00"), TORONTO)  # default breakthrough
    night = local("2026-12-04T23:00")
    held = PendingDelivery(7, 1, "slack", 0, event=event(), created_at=night)
    assert quiet.held_until(held, local("2026-12-05T06:59")) is None  # still quiet
    assert quiet.held_until(held, local("2026-12-05T07:00")) == local("2026-12-05T07:00")
    assert quiet.held_until(held, local("2026-12-05T09:30")) == local("2026-12-05T07:00")
    daytime = PendingDelivery(8, 1, "slack", 0, event=event(), created_at=local("2026-12-05T12:00"))
    assert quiet.held_until(daytime, local("2026-12-05T13:00")) is None  # never held
    undated = PendingDelivery(9, 1, "slack", 0, event=event())
    assert quiet.held_until(undated, local("2026-12-05T09:30")) is None
    never_quiet = QuietHours((), TORONTO)
    assert never_quiet.held_until(held, local("2026-12-05T09:30")) is None


def test_an_alert_that_breaks_through_was_never_held() -> None:
    quiet = QuietHours(parse_quiet_hours("22:00-07:00"), TORONTO)  # backward breaks through
    backward = event(from_status="ACTIVE", to_status="PENDING_APPROVAL")
    night = local("2026-12-04T23:00")
    sent_at_once = PendingDelivery(10, 1, "slack", 0, event=backward, created_at=night)
    assert quiet.breaks_through(sent_at_once)
    assert quiet.held_until(sent_at_once, local("2026-12-05T09:30")) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("10:60-11:00", "'10:60' is not a time of day (00:00 to 24:00)"),
        ("25:00-01:00", "'25:00' is not a time of day (00:00 to 24:00)"),
        ("22:00-24:01", "'24:01' is not a time of day (00:00 to 24:00)"),
        ("sat, sun", "'sat, sun' has days but no HH:MM-HH:MM"),
    ],
)
def test_the_exact_reason_a_window_is_refused(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(says)}$"):
        parse_quiet_hours(text)


def test_full_day_names_minutes_up_to_59_and_days_given_before_the_times() -> None:
    assert parse_quiet_hours("monday-friday 10:59-24:00") == (
        Window(659, 1440, frozenset({0, 1, 2, 3, 4})),
    )
    assert parse_quiet_hours("sat, sun, 10:00-11:00") == (Window(600, 660, frozenset({5, 6})),)
    with pytest.raises(
        ValueError, match=r"^unknown nope, zzz: use acknowledged, added, backward, "
    ):
        breakthrough_kinds("zzz, nope")


def test_quiet_at_reads_the_windows_in_their_zone_and_no_windows_is_never_quiet() -> None:
    quiet = QuietHours(parse_quiet_hours("22:00-07:00"), TORONTO)
    assert quiet.quiet_at(datetime(2026, 12, 5, 8, 0, tzinfo=UTC))  # 03:00 in Toronto
    assert not quiet.quiet_at(datetime(2026, 12, 5, 23, 0, tzinfo=UTC))  # 18:00 in Toronto
    assert not QuietHours((), TORONTO).quiet_at(datetime(2026, 12, 5, 8, 0, tzinfo=UTC))


def test_a_baseline_summary_is_labelled_baseline() -> None:
    summary = PendingDelivery(11, 1, "slack", 0, summary=BaselineSummary(1, NOW, 3, ()))
    assert labels(summary) == {"baseline"}


def test_an_empty_part_between_windows_is_skipped_not_the_end() -> None:
    assert parse_quiet_hours("22:00-23:00,, 01:00-02:00") == (
        Window(22 * 60, 23 * 60),
        Window(60, 120),
    )


def test_a_weekend_chain_ends_when_the_week_resumes() -> None:
    windows = parse_quiet_hours("mon-fri 19:00-08:00, sat,sun 00:00-24:00")
    friday_night = quiet_interval(local("2026-12-04T23:00"), windows, TORONTO)
    # Friday 19:00 to Sunday midnight: Sunday night is not in mon-fri.
    assert friday_night == (local("2026-12-04T19:00"), local("2026-12-07T00:00"))


def test_quiet_hours_do_not_depend_on_the_process_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: already the next day there
    time.tzset()
    try:
        windows = parse_quiet_hours("22:00-07:00")
        at = local("2026-12-05T06:00")  # 01:00 on the 6th in the process's zone
        assert quiet_interval(at, windows, TORONTO) == (
            local("2026-12-04T22:00"),
            local("2026-12-05T07:00"),
        )
    finally:
        monkeypatch.undo()
        time.tzset()
