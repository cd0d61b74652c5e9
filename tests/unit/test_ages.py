"""SPEC 11's ages, true from the first poll: where a stay's start is known, the sum rule for
stuck where it is not, and what alerts say of a stay that began before the watcher looked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.core.ages import in_status_phrase, is_stuck, stuck_limit, waiting
from app.core.diff import diff
from app.core.expect import NONE, Expectation, expect, outlook_sentence, outlooks
from app.core.report import ProviderStats, summarise
from app.core.stuck import Candidate, reminders_due
from app.core.survival import Observation, kaplan_meier
from app.db.boardreads import BoardPage
from app.domain import Answer, EventKind
from app.notify.render import console_lines
from app.notify.slash import listing
from app.web.charts import survival_curves
from app.web.shape import board
from tests.builders import NOW, event, registration, stored

DEFAULTS = {"PENDING_APPROVAL": timedelta(days=7), "PENDING_ACTIVATION": timedelta(days=14)}
WEEKS_AGO = NOW - timedelta(days=52)
DAY = timedelta(days=1)


def _baseline(status: str, requested=WEEKS_AGO):  # type: ignore[no-untyped-def]
    row = registration(status=status, requested_on=requested)
    result = diff({}, Answer((row,)), NOW, baseline=True, removal_confirm_polls=2)
    (state,) = result.changed
    return state


def test_first_seen_pending_approval_is_there_since_its_request_exactly() -> None:
    state = _baseline("PENDING_APPROVAL")
    assert (state.status_since, state.status_since_exact) == (WEEKS_AGO, True)


def test_first_seen_past_approval_entered_it_at_an_unknown_time() -> None:
    state = _baseline("PENDING_ACTIVATION")
    assert (state.status_since, state.status_since_exact) == (NOW, False)


def test_a_request_in_the_future_waits_from_now_and_counts_no_negative_time() -> None:
    future = NOW + timedelta(days=3)
    state = _baseline("PENDING_APPROVAL", requested=future)
    assert state.status_since == NOW
    assert waiting(future, "PENDING_APPROVAL", NOW) == timedelta(0)
    assert waiting(future, "ACTIVE", NOW) is None


def test_a_move_seen_starts_an_exact_stay_and_the_event_says_the_last_was_not() -> None:
    before = _baseline("PENDING_ACTIVATION")
    later = NOW + timedelta(minutes=5)
    answer = Answer((registration(status="ACTIVE", requested_on=WEEKS_AGO),))
    moved = diff({before.key: before}, answer, later, baseline=False, removal_confirm_polls=2)
    (ev,) = [e for e in moved.events if e.event == EventKind.STATUS_CHANGED]
    assert (ev.previous_status_since, ev.previous_status_since_exact) == (NOW, False)
    assert moved.changed[0].status_since_exact is True
    line = console_lines([ev])[0]
    assert "less than a minute" not in line
    assert "after at least 5 minutes" in line


def test_inexact_stay_just_seen_says_since_before_not_less_than_a_minute() -> None:
    ev = event(previous_status_since=NOW, previous_status_since_exact=False)
    line = console_lines([ev])[0]
    assert "less than a minute" not in line
    assert f"there since before {NOW:%Y-%m-%d}" in line
    assert in_status_phrase(NOW - timedelta(days=3), False, NOW) == "at least 3 days"
    assert in_status_phrase(NOW - timedelta(days=3), True, NOW) == "3 days"


def test_sum_rule_for_an_inexact_stay() -> None:
    assert stuck_limit("PENDING_ACTIVATION", False, DEFAULTS) == timedelta(days=21)
    assert stuck_limit("PENDING_ACTIVATION", True, DEFAULTS) == timedelta(days=14)
    assert stuck_limit("ACTIVE", False, DEFAULTS) is None
    row = registration(status="PENDING_ACTIVATION", requested_on=NOW - timedelta(days=20))
    young = stored(row, NOW - timedelta(hours=1), exact=False)
    assert not is_stuck(young, NOW, DEFAULTS)  # waiting 20 d < 7 d + 14 d
    assert is_stuck(young, NOW + timedelta(days=1, minutes=1), DEFAULTS)


def test_deployed_over_old_registrations_reminds_them_in_the_first_cycle() -> None:
    """With the default 7 d, a PENDING_APPROVAL requested 52 days ago and a PENDING_ACTIVATION
    first seen at the baseline but requested 52 days ago are both reminded at once."""
    approval = _baseline("PENDING_APPROVAL")
    activation = _baseline("PENDING_ACTIVATION")
    fresh = _baseline("PENDING_ACTIVATION", requested=NOW - timedelta(days=2))
    candidates = [Candidate(s) for s in (approval, activation, fresh)]
    due = reminders_due(candidates, NOW, DEFAULTS, timedelta(days=7))
    assert sorted(e.to_status or "" for e in due) == ["PENDING_ACTIVATION", "PENDING_APPROVAL"]
    (inexact,) = [e for e in due if e.to_status == "PENDING_ACTIVATION"]
    assert not inexact.previous_status_since_exact
    assert "less than a minute" not in console_lines([inexact])[0]


def _curve_stats(days: list[int], waiting: int = 0) -> ProviderStats:
    obs = [Observation(d * 86400.0, True) for d in days]
    obs += [Observation(waiting * 86400.0, False)] if waiting else []
    curve = kaplan_meier(obs)
    return ProviderStats(12, "NBC", 1, summarise(curve), {}, curve)


def test_expected_is_the_conditional_median_and_late_is_past_the_percentile() -> None:
    stats = _curve_stats(list(range(1, 11)))  # 1..10 days: S(4 d) = 0.6, half of it at 7 d
    found = outlooks([stats], 0.9, 5)
    requested = NOW - timedelta(days=4)
    seen = expect(found[12], requested, "PENDING_ACTIVATION", NOW)
    assert seen == Expectation(requested + timedelta(days=7), False, True)
    overdue = expect(found[12], NOW - timedelta(days=9, hours=1), "PENDING_APPROVAL", NOW)
    assert overdue.late  # past p90 = 9 days
    assert expect(found[12], requested, "ACTIVE", NOW) == NONE
    assert found[12].reason == "slower than 90% of NBC's activations (median 5 days, 10 observed)"


def test_below_the_minimum_neither_expected_nor_late() -> None:
    found = outlooks([_curve_stats([1, 2, 3])], 0.9, 5)
    far = expect(found[12], NOW - timedelta(days=90), "PENDING_APPROVAL", NOW)
    assert far == Expectation(None, False, False)


def test_late_ones_are_reminded_like_stuck_ones_with_the_reason() -> None:
    row = registration(status="PENDING_ACTIVATION", requested_on=NOW - timedelta(days=10))
    state = stored(row, NOW - timedelta(days=1))  # exact, 1 day: not stuck
    late = {row.provider_id: (timedelta(days=9), "slower than 90% of Bank's activations")}
    (due,) = reminders_due([Candidate(state)], NOW, DEFAULTS, timedelta(days=7), late)
    line = console_lines([due])[0]
    assert "late" in line
    assert "slower than 90% of Bank's activations" in line
    again = reminders_due(
        [Candidate(state, NOW)], NOW + timedelta(days=1), DEFAULTS, timedelta(days=7), late
    )
    assert again == []  # the same cadence as stuck: STUCK_REPEAT


def _row(client: str, status: str, waited: timedelta, exact: bool = True) -> dict[str, object]:
    requested = NOW - waited
    return {
        "client_id": client,
        "client_name": f"Client {client}",
        "provider_id": 12,
        "provider_name": "NBC",
        "country": "CA",
        "registration_status": status,
        "requested_on": requested,
        "first_seen_at": requested,
        "status_since": requested if exact else NOW - timedelta(hours=1),
        "present": True,
        "status_since_exact": exact,
    }


def test_board_cells_say_waiting_expected_and_late() -> None:
    found = outlooks([_curve_stats(list(range(1, 11)))], 0.9, 5)
    rows = [
        _row("a", "PENDING_APPROVAL", timedelta(days=4)),
        _row("b", "PENDING_ACTIVATION", timedelta(days=52), exact=False),
    ]
    page = BoardPage(counts={}, recipients=2, page=1, rows=rows)
    cells = [r.cells[12] for r in board(page, NOW, DEFAULTS, expected=found).recipients]
    fresh, old = cells
    assert (fresh["waiting_days"], fresh["late"]) == (4, False)
    assert fresh["expected_active_by"] == NOW - timedelta(days=4) + timedelta(days=7)
    assert (old["waiting_days"], old["late"], old["stuck"]) == (52, True, True)  # 52 d > 7 + 14


def test_timeline_sentence() -> None:
    found = outlooks([_curve_stats(list(range(1, 11)))], 0.9, 5)
    requested = datetime(2026, 3, 1, tzinfo=UTC)
    said = outlook_sentence(found[12], "NBC", requested, "PENDING_APPROVAL", requested)
    assert said == (
        "NBC activates in a median of 5 days (10 observed); this one is expected by 2026-03-06."
    )
    late = outlook_sentence(found[12], "NBC", NOW - 10 * DAY, "PENDING_APPROVAL", NOW)
    assert "this one is late: slower than 90% of NBC's activations" in late
    few = outlooks([_curve_stats([1, 2])], 0.9, 5)
    assert "Not enough history" in outlook_sentence(few[12], "NBC", requested, "X", NOW)


def test_the_providers_chart_draws_each_curve_as_steps_from_the_top() -> None:
    """S(t) of 1 and 2 days, one still waiting: from (0, 0) (S = 1 at the top) down a step at
    each activation, flat to the right edge; the title says how many still wait."""
    (line,) = survival_curves([_curve_stats([1, 2], waiting=3)])
    # S: 1 -> 2/3 at 1 d -> 1/3 at 2 d; x scaled to the last activation (2 d = 400 px)
    assert line["points"] == "0.0,0.0 200.0,0.0 200.0,40.0 400.0,40.0 400.0,80.0 400.0,80.0"
    assert (line["count"], line["censored"]) == (2, 1)
    assert survival_curves([]) == []


def test_the_slash_command_says_when_each_is_expected_late_or_unknown() -> None:
    found = outlooks([_curve_stats(list(range(1, 11)))], 0.9, 5)  # provider 12, 1..10 days
    fresh = stored(registration("a", 12, requested_on=NOW - timedelta(days=4)))
    slow = stored(registration("b", 12, requested_on=NOW - timedelta(days=9, hours=1)))
    other = stored(registration("c", 13, requested_on=NOW - timedelta(days=2)))
    done = stored(registration("d", 12, "ACTIVE", requested_on=NOW - timedelta(days=3)))
    text = listing("Found", [fresh, slow, other, done], 4, {}, NOW, found)
    lines = text.splitlines()
    assert lines[0] == "Found: 4"
    assert lines[1].endswith("`PENDING_APPROVAL`, waiting 4 days, expected by 2026-03-05")
    assert lines[2].endswith(
        ", late: slower than 90% of NBC's activations (median 5 days, 10 observed)"
    )
    assert lines[3].endswith("`PENDING_APPROVAL`, waiting 2 days, not enough history")
    assert lines[4].endswith("`ACTIVE`")  # no waiting, no expectation once ACTIVE


def test_a_registration_read_for_acks_and_reminders_keeps_its_exactness() -> None:
    from app.db.acks import stored_from

    row = {
        "client_id": "a", "client_name": "A", "provider_id": 1, "provider_name": "B",
        "country": "CA", "registration_status": "PENDING_ACTIVATION", "requested_on": NOW,
        "first_seen_at": NOW, "status_since": NOW, "missing_polls": 0, "present": True,
    }  # fmt: skip
    assert stored_from(row | {"status_since_exact": False}).status_since_exact is False
    assert stored_from(row | {"status_since_exact": True}).status_since_exact is True
