"""The report's pure rules on plain values: percentiles, what is measured from the history,
what is stuck; the STUCK_AFTER and ALERT_TIMEZONE settings; dates people read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.cli.report import as_table
from app.config.settings import ConfigError, load_settings
from app.config.types import parse_duration
from app.core.report import (
    HistoryRow,
    ProviderStats,
    Report,
    Stuck,
    Summary,
    build_report,
    percentile,
    provider_stats,
    stuck_now,
    summarise,
)
from app.core.text import local_day, short_duration
from tests.builders import registration, stored

T0 = datetime(2026, 1, 1, tzinfo=UTC)
D = timedelta(days=1)


def row(event: str, client: str, to: str | None, at: datetime, **kw: object) -> HistoryRow:
    fields: dict[str, object] = {
        "event": event,
        "client_id": client,
        "provider_id": 2000,
        "provider_name": "NBC",
        "from_status": None,
        "to_status": to,
        "observed_at": at,
        "requested_on": T0,
        "previous_status_since": None,
    }
    return HistoryRow(**(fields | kw))  # type: ignore[arg-type]


def move(
    client: str, frm: str, to: str, at: datetime, since: datetime, requested: datetime = T0
) -> HistoryRow:
    return row(
        "status_changed",
        client,
        to,
        at,
        from_status=frm,
        previous_status_since=since,
        requested_on=requested,
    )


@pytest.mark.parametrize(
    ("days", "median", "p90"),
    [
        ([4], 4, 4),
        ([1, 3], 2, 2.8),
        ([5, 6, 15], 6, 13.2),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5.5, 9.1),
    ],
)
def test_median_and_p90_interpolate_between_ranks(
    days: list[float], median: float, p90: float
) -> None:
    summary = summarise([d * D for d in days])
    assert summary.count == len(days)
    assert summary.median == median * D
    assert summary.p90 is not None
    assert abs(summary.p90 - p90 * D) < timedelta(microseconds=1)


def test_no_durations_summarise_to_none() -> None:
    assert summarise([]).median is None
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=50))
def test_median_lies_between_min_and_max_and_p90_above_it(seconds: list[int]) -> None:
    values = [timedelta(seconds=s) for s in seconds]
    summary = summarise(values)
    assert summary.median is not None
    assert summary.p90 is not None
    assert min(values) <= summary.median <= summary.p90 <= max(values)
    assert summarise(list(reversed(values))) == summary  # the order of the history is no matter


def test_time_to_active_is_from_requested_on_and_counts_the_first_activation_only() -> None:
    history = [
        row("baseline", "mid-way", "PENDING_ACTIVATION", T0, requested_on=T0 - 10 * D),
        move("mid-way", "PENDING_ACTIVATION", "ACTIVE", T0 + 5 * D, T0, T0 - 10 * D),
        row("added", "new", "PENDING_APPROVAL", T0 + D, requested_on=T0 + D),
        move("new", "PENDING_APPROVAL", "ACTIVE", T0 + 3 * D, T0 + D, T0 + D),
        move("new", "ACTIVE", "SUSPENDED", T0 + 4 * D, T0 + 3 * D),
        move("new", "SUSPENDED", "ACTIVE", T0 + 9 * D, T0 + 4 * D),
        row("baseline", "seen-active", "ACTIVE", T0),
        move("seen-active", "ACTIVE", "SUSPENDED", T0 + 2 * D, T0),
        move("seen-active", "SUSPENDED", "ACTIVE", T0 + 3 * D, T0 + 2 * D),
    ]
    [nbc] = provider_stats(history, [])
    assert nbc.to_active.count == 2  # mid-way 15 days, new 2 days; seen-active never counts
    assert nbc.to_active.median == (15 * D + 2 * D) / 2
    # The baseline stays (mid-way's and seen-active's first) began out of sight: not counted.
    assert nbc.in_status["ACTIVE"].count == 1  # new: 1 day
    assert nbc.in_status["SUSPENDED"].median == 3 * D  # new 5 days, seen-active 1 day
    assert "PENDING_ACTIVATION" not in nbc.in_status


def test_events_that_move_nothing_are_ignored_and_present_rows_count() -> None:
    history = [
        row("added", "a", "PENDING_APPROVAL", T0),
        row("details_changed", "a", "PENDING_APPROVAL", T0 + D, provider_name="NBC Bank"),
        row("removed", "a", None, T0 + 2 * D, from_status="PENDING_APPROVAL"),
    ]
    renamed = registration("x", 2000, provider_name="NBC Bank")  # the current name wins
    present = [stored(renamed), stored(registration("y", 3000))]
    bank, nbc = provider_stats(history, present)  # by name
    assert (nbc.provider_name, nbc.registrations, nbc.in_status) == ("NBC Bank", 1, {})
    assert (bank.provider_name, bank.registrations, bank.to_active.count) == ("Bank 3000", 1, 0)


def test_stuck_is_present_longer_than_its_status_allows_longest_first() -> None:
    now = T0 + 20 * D
    rules = {"PENDING_APPROVAL": 7 * D, "PENDING_ACTIVATION": 14 * D}
    states = [
        stored(registration("short"), status_since=now - 7 * D),  # exactly 7 days: not yet
        stored(registration("long"), status_since=now - 18 * D),
        stored(registration("longest", status="PENDING_ACTIVATION"), status_since=T0),
        stored(registration("gone"), status_since=T0, present=False),
        stored(registration("active", status="ACTIVE"), status_since=T0),
        stored(registration("also-long", provider=1000), status_since=now - 18 * D),
    ]
    found = stuck_now(states, now, rules)
    assert [s.state.registration.client_id for s in found] == ["longest", "also-long", "long"]
    assert found[0].in_status == 20 * D
    assert found[0].allowed == 14 * D
    assert stuck_now(states, now, {}) == ()


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("12h", 43200), ("7d", 604800), ("2w", 1209600)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_stuck_after_and_time_zone_settings() -> None:
    default = load_settings(_env_file=None)
    assert default.stuck_after == {"PENDING_APPROVAL": 7 * D, "PENDING_ACTIVATION": 14 * D}
    assert default.alert_timezone.utcoffset(T0) == timedelta(0)
    assert load_settings(stuck_after="").stuck_after == {}
    assert load_settings(stuck_after=" suspended = 3s ").stuck_after == {
        "SUSPENDED": timedelta(seconds=3)
    }
    assert str(load_settings(alert_timezone="America/Toronto").alert_timezone) == "America/Toronto"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("stuck_after", "PENDING_APPROVAL=7x", "STUCK_AFTER: '7x' is not a duration"),
        ("stuck_after", "PENDING_APPROVAL", "STUCK_AFTER: 'PENDING_APPROVAL' is not STATUS="),
        ("stuck_after", "A=1d,a=2d", "STUCK_AFTER: A is given twice"),
        ("stuck_after", "A=0h", "STUCK_AFTER: 'A=0h': the duration must be more than 0"),
        ("alert_timezone", "Mars/Olympus", "ALERT_TIMEZONE: unknown time zone 'Mars/Olympus'"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(")) as caught:
        load_settings(**{name: value})
    assert "\n" not in str(caught.value)


def test_people_read_short_durations_and_local_dates() -> None:
    assert [short_duration(d) for d in (timedelta(seconds=30), 2 * D, 9.5 * D)] == [
        "30s",
        "2d",
        "9d 12h",
    ]
    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 22:00 the day before in Toronto
    requested = datetime(2026, 2, 10, 4, 0, tzinfo=UTC)  # 23:00 on the 9th in Toronto
    assert local_day(requested, UTC, now) == "2026-02-10 (20 days ago)"
    assert local_day(requested, ZoneInfo("America/Toronto"), now) == "2026-02-09 (20 days ago)"
    assert local_day(now, UTC, now) == "2026-03-02 (today)"


def test_the_table_names_stuck_registrations_with_local_dates() -> None:
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    since = now - 9 * D
    state = stored(registration("dc-a", requested_on=datetime(2026, 2, 10, tzinfo=UTC)), since)
    rules = {"PENDING_APPROVAL": 7 * D}
    report = Report(now, provider_stats([], [state]), stuck_now([state], now, rules))
    text = as_table(report, rules, ZoneInfo("America/Toronto"))
    assert "Stuck now: 1, longest first (STUCK_AFTER PENDING_APPROVAL=7d; dates in" in text
    assert "9d" in text
    assert "2026-02-21 (9 days ago)" in text
    assert "2026-02-09 (21 days ago)" in text  # requested midnight UTC: the 9th in Toronto
    assert "not checked" in as_table(report, {}, UTC)


def test_the_report_counts_present_registrations_and_stuck_ones_in_full() -> None:
    now = T0 + 30 * D
    history = [
        # A clock that disagreed: an activation before its request is 0, never negative.
        move("a", "PENDING_APPROVAL", "ACTIVE", T0 + 2 * D, T0 + 3 * D, requested=T0 + 4 * D),
        row("added", "b", "PENDING_APPROVAL", T0, provider_id=3000, provider_name="Old name"),
    ]
    waiting = stored(registration("b", 3000), status_since=T0 + D)
    renamed = registration("c", 3000, provider_name="TD")
    gone = stored(registration("d", 3000), present=False)
    lonely = registration("e", 4000, "ACTIVE", provider_name="Bank 4000")
    report = build_report(
        history,
        [waiting, stored(renamed), gone, stored(lonely)],
        now,
        {"PENDING_APPROVAL": 7 * D},
    )
    assert report == Report(
        now,
        (
            ProviderStats(4000, "Bank 4000", 1, Summary(0, None, None), {}),
            ProviderStats(
                2000,
                "NBC",
                0,
                Summary(1, timedelta(0), timedelta(0)),
                {"PENDING_APPROVAL": Summary(1, timedelta(0), timedelta(0))},
            ),
            ProviderStats(3000, "TD", 2, Summary(0, None, None), {}),
        ),
        (Stuck(waiting, 29 * D, 7 * D),),
    )
    with pytest.raises(ValueError, match=r"^percentile of no values$"):
        percentile([], 0.5)
