"""The history folded into Kaplan-Meier figures (app.core.lifetimes through
app.core.report.provider_stats, so that these hold whatever the fold's internals): a removal
censors at the removal, a registration first seen late enters at its waiting (left truncation),
the digest's window leaves out what ended before it, and a move of a registration never seen
first is skipped without ending the read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from app.core.report import HistoryRow, ProviderStats, Summary, build_report, provider_stats

T0 = datetime(2026, 1, 1, tzinfo=UTC)
D = timedelta(days=1)
PA, PACT, ACTIVE = "PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE"


def added(client: str, at: timedelta, requested: timedelta = timedelta(0)) -> HistoryRow:
    return HistoryRow("added", client, 5, "Bank 5", None, PA, T0 + at, T0 + requested)


def moved(client: str, frm: str, to: str, at: timedelta) -> HistoryRow:
    return HistoryRow("status_changed", client, 5, "Bank 5", frm, to, T0 + at, T0)


def removed(client: str, frm: str, at: timedelta) -> HistoryRow:
    return HistoryRow("removed", client, 5, "Bank 5", frm, None, T0 + at, T0)


def stats(rows: list[HistoryRow], now: timedelta, since: timedelta | None = None) -> ProviderStats:
    ordered = sorted(rows, key=lambda r: r.observed_at)
    (found,) = provider_stats(ordered, [], T0 + now, None if since is None else T0 + since)
    return found


def measured(in_status: Mapping[str, Summary]) -> dict[str, Summary]:
    """The statuses with something measured (an empty one may or may not be listed)."""
    return {s: v for s, v in in_status.items() if v.count or v.censored}


def test_a_removed_registration_is_censored_at_its_removal_not_at_now() -> None:
    """a removed at 2 d, b ACTIVE at 5 d: at 5 d only b is at risk, so S(5 d) = 0 and the 90th
    percentile is 5 d; censored at now (10 d), a would hold S at 0.5 and leave no p90."""
    rows = [added("a", 0 * D), removed("a", PA, 2 * D), added("b", 0 * D)]
    rows += [moved("b", PA, ACTIVE, 5 * D)]
    found = stats(rows, now=10 * D)
    assert found.to_active == Summary(1, 5 * D, 5 * D, 1)
    assert measured(found.in_status) == {
        PA: Summary(1, 5 * D, 5 * D, 1),
        ACTIVE: Summary(0, None, None, 1),
    }


def test_one_first_seen_long_after_its_request_enters_at_its_waiting() -> None:
    """a requested at 0, first seen at 10 d, ACTIVE at 12 d; b ACTIVE at 5 d. a was not under
    watch at 5 d: b alone was at risk then, so S(5 d) = 0 (counted from 0, a would make it 0.5
    and move the 90th percentile to 12 d)."""
    rows = [added("a", 10 * D), moved("a", PA, ACTIVE, 12 * D)]
    rows += [added("b", 0 * D), moved("b", PA, ACTIVE, 5 * D)]
    found = stats(rows, now=20 * D)
    assert found.to_active == Summary(2, 5 * D, 5 * D, 0)
    assert found.in_status[PA] == Summary(2, 5 * D, 5 * D, 0)


def test_the_window_leaves_out_what_ended_before_it_and_enters_the_rest_at_its_start() -> None:
    """Window from 20 d, now 30 d. a: PENDING_APPROVAL to 5 d (before the window: left out),
    PENDING_ACTIVATION 5 d to 25 d (kept), ACTIVE since. b: removed at 10 d (left out). c: ACTIVE
    exactly at 20 d (it enters and ends at the window's start: nothing to estimate)."""
    rows = [added("a", 0 * D), moved("a", PA, PACT, 5 * D), moved("a", PACT, ACTIVE, 25 * D)]
    rows += [added("b", 0 * D), removed("b", PA, 10 * D)]
    rows += [added("c", 0 * D), moved("c", PA, ACTIVE, 20 * D)]
    found = stats(rows, now=30 * D, since=20 * D)
    assert found.to_active == Summary(1, 25 * D, 25 * D, 0)
    assert measured(found.in_status) == {
        PACT: Summary(1, 20 * D, 20 * D, 0),
        ACTIVE: Summary(0, None, None, 2),
    }


def test_a_move_of_one_never_seen_first_is_skipped_and_the_rest_is_read() -> None:
    rows = [moved("ghost", PA, ACTIVE, 0 * D), added("a", 1 * D, requested=1 * D)]
    rows += [moved("a", PA, ACTIVE, 4 * D)]
    assert stats(rows, now=10 * D).to_active == Summary(1, 3 * D, 3 * D, 0)


def test_the_report_is_of_its_now() -> None:
    rows = [added("a", 0 * D), moved("a", PA, ACTIVE, 4 * D)]
    report = build_report(rows, [], T0 + 10 * D, {PA: 7 * D})
    assert report.now == T0 + 10 * D
    assert [p.to_active for p in report.providers] == [Summary(1, 4 * D, 4 * D, 0)]


def test_one_first_seen_active_tells_nothing_and_hides_none_of_the_others() -> None:
    """Its time to ACTIVE is unknown: left out; the registrations after it are all counted."""
    first_active = HistoryRow("baseline", "old", 5, "Bank 5", None, ACTIVE, T0, T0 - 90 * D)
    rows = [first_active, added("a", 0 * D), moved("a", PA, ACTIVE, 3 * D), added("b", 1 * D)]
    found = stats(rows, now=10 * D)
    # a ACTIVE at 3 d while b waits: S(3 d) = 1/2, no 90th percentile yet
    assert found.to_active == Summary(1, 3 * D, None, 1)
    assert measured(found.in_status) == {
        PA: Summary(1, 3 * D, None, 1),
        ACTIVE: Summary(0, None, None, 1),  # a's; one first seen ACTIVE has no known start
    }
