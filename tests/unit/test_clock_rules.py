"""Clock jumps as plain values (issue 22 item 9): a stuck reminder, a blind alert or a board
update dated later than now holds nothing back; a stretch or a stay the clock makes negative
is shown as 0."""

from __future__ import annotations

from datetime import timedelta

from app.core.blind import BlindPolicy, BlindState, on_failure
from app.core.stuck import Candidate, reminders_due
from app.db.boardreads import BoardPage
from app.domain import StoredRegistration, WatcherNotice
from app.notify.board_render import BoardRef
from app.watch.boardwatch import _stale
from app.web.shape import board, time_in_status
from tests.builders import NOW, registration

LIMITS = {"PENDING_APPROVAL": timedelta(days=7)}
REPEAT = timedelta(days=7)
D = timedelta(days=1)


def test_a_reminder_dated_later_than_now_suppresses_nothing() -> None:
    reg = registration(provider_id=1, registration_status="PENDING_APPROVAL")
    stuck = StoredRegistration(reg, first_seen_at=NOW - 10 * D, status_since=NOW - 10 * D)
    for ahead in (timedelta(seconds=1), D, 30 * D):
        assert len(reminders_due([Candidate(stuck, NOW + ahead)], NOW, LIMITS, REPEAT)) == 1
    assert reminders_due([Candidate(stuck, NOW)], NOW, LIMITS, REPEAT) == []  # just sent


def test_a_stretch_the_clock_made_negative_lasts_zero() -> None:
    events = [
        {"event": "baseline", "to_status": "PENDING_APPROVAL", "observed_at": NOW - 2 * D},
        {"event": "status_changed", "to_status": "PENDING_ACTIVATION", "observed_at": NOW + 30 * D},
        {"event": "status_changed", "to_status": "ACTIVE", "observed_at": NOW - D},
    ]
    durations = [s["duration"] for s in time_in_status(events, NOW)]
    assert durations == [32 * D, timedelta(0), D]


def test_the_board_shows_zero_days_for_a_future_status_since_and_every_name() -> None:
    rows = [
        {"client_id": "c", "client_name": name, "provider_id": pid, "provider_name": "B",
         "registration_status": "ACTIVE", "status_since": NOW + 30 * D,
         "status_since_exact": True, "requested_on": NOW - 40 * D}
        for pid, name in ((1, "Acme"), (2, "ACME Inc."), (3, "Acme"))
    ]  # fmt: skip
    shown = board(BoardPage({"ACTIVE": 3}, 1, 1, rows), NOW, LIMITS)
    [recipient] = shown.recipients
    assert recipient.client_name == "Acme / ACME Inc."
    assert {cell["days_in_status"] for cell in recipient.cells.values()} == {0}


def test_a_blind_alert_dated_later_than_now_holds_back_no_repeat() -> None:
    blind = WatcherNotice(poll_id=0, observed_at=NOW, total=0, by_status=())
    policy = BlindPolicy(after=1, repeat=timedelta(hours=24))
    cases = ((NOW - D, True), (NOW - timedelta(hours=1), False), (NOW + 30 * D, True))
    for announced_at, repeated in cases:
        state = BlindState(5, NOW - 2 * D, announced=blind, announced_at=announced_at)
        notice = on_failure(state, policy, started_at=NOW, now=NOW, cause="http", error="x")
        assert (notice is not None) is repeated, announced_at


def test_a_board_updated_later_than_now_is_stale() -> None:
    assert _stale(BoardRef("C1", "1.2", "d", updated_at=NOW + 30 * D), NOW)
    assert not _stale(BoardRef("C1", "1.2", "d", updated_at=NOW - timedelta(minutes=5)), NOW)
