"""The report's pure rules on plain values: Kaplan-Meier figures from the history,
what is stuck; the STUCK_AFTER and ALERT_TIMEZONE settings; dates people read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.cli.report import as_table
from app.config.settings import ConfigError, load_settings
from app.config.types import parse_duration
from app.core.report import HistoryRow, Report, Stuck, build_report, provider_stats, stuck_now
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


def test_the_slow_ones_still_waiting_count_instead_of_being_left_out() -> None:
    """Two activated after 2 and 4 days, three still waiting at 30: the completed-only median
    said 3 days; Kaplan-Meier says the curve never falls to one half (median None)."""
    now = T0 + 30 * D
    history = [row("added", c, "PENDING_APPROVAL", T0) for c in "abcde"]
    history += [
        move("a", "PENDING_APPROVAL", "ACTIVE", T0 + 2 * D, T0),
        move("b", "PENDING_APPROVAL", "ACTIVE", T0 + 4 * D, T0),
    ]
    [nbc] = provider_stats(history, [], now)
    assert (nbc.to_active.count, nbc.to_active.censored) == (2, 3)
    assert nbc.curve.at((4 * D).total_seconds()) == pytest.approx(0.6)
    assert nbc.to_active.median is None
    assert nbc.to_active.p90 is None


def test_a_request_in_the_future_is_no_zero_second_activation() -> None:
    ahead = T0 + 5 * D
    history = [
        row("added", "odd", "PENDING_APPROVAL", T0, requested_on=ahead),
        move("odd", "PENDING_APPROVAL", "ACTIVE", T0 + D, T0, ahead),
    ]
    [nbc] = provider_stats(history, [], T0 + 2 * D)
    assert (nbc.to_active.count, nbc.to_active.median) == (0, None)


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
    [nbc] = provider_stats(history, [], T0 + 20 * D)
    assert nbc.to_active.count == 2  # mid-way 15 days, new 2 days; seen-active never counts
    # mid-way came under watch at 10 days (left truncation): at 2 days only `new` was at risk.
    assert nbc.to_active.median == 2 * D
    # The baseline stays (mid-way's and seen-active's first) began out of sight: not counted;
    # the ACTIVE stays still going are censored at now.
    assert (nbc.in_status["ACTIVE"].count, nbc.in_status["ACTIVE"].censored) == (1, 3)
    assert nbc.in_status["SUSPENDED"].median == 1 * D  # 1 and 5 days: S(1 d) = 0.5
    assert nbc.in_status["PENDING_APPROVAL"].count == 1  # new: exact from its request
    assert "PENDING_ACTIVATION" not in nbc.in_status


def test_events_that_move_nothing_are_ignored_and_present_rows_count() -> None:
    history = [
        row("added", "a", "PENDING_APPROVAL", T0),
        row("details_changed", "a", "PENDING_APPROVAL", T0 + D, provider_name="NBC Bank"),
        row("removed", "a", None, T0 + 2 * D, from_status="PENDING_APPROVAL"),
    ]
    renamed = registration("x", 2000, provider_name="NBC Bank")  # the current name wins
    present = [stored(renamed), stored(registration("y", 3000))]
    bank, nbc = provider_stats(history, present, T0 + 3 * D)  # by name
    assert (nbc.provider_name, nbc.registrations) == ("NBC Bank", 1)
    # removed after 2 days of waiting: censored there, not at now
    assert (nbc.to_active.count, nbc.to_active.censored) == (0, 1)
    assert nbc.in_status["PENDING_APPROVAL"].censored == 1
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
    report = Report(now, provider_stats([], [state], now), stuck_now([state], now, rules))
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
    assert [(p.provider_id, p.provider_name, p.registrations) for p in report.providers] == [
        (4000, "Bank 4000", 1),
        (2000, "NBC", 0),
        (3000, "TD", 2),
    ]
    # Requested after it went ACTIVE: it tells nothing of a duration (never a 0 s activation).
    nbc = report.providers[1]
    assert (nbc.to_active.count, nbc.to_active.median) == (0, None)
    assert report.stuck == (Stuck(waiting, 29 * D, 7 * D, now),)


def test_a_status_whose_stays_all_ended_before_the_window_is_not_listed() -> None:
    """With `since` (the digest's window), a PENDING_APPROVAL stay that ended before the window
    began tells nothing: the status is absent, not listed with no observation; the
    PENDING_ACTIVATION stay still going is there."""
    history = [
        row("baseline", "a", "PENDING_APPROVAL", T0),
        move("a", "PENDING_APPROVAL", "PENDING_ACTIVATION", T0 + D, T0),
    ]
    [nbc] = provider_stats(history, [], T0 + 30 * D, since=T0 + 10 * D)
    assert list(nbc.in_status) == ["PENDING_ACTIVATION"]
    assert nbc.in_status["PENDING_ACTIVATION"].censored == 1
