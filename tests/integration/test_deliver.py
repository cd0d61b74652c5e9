"""deliver_pending with an honest in-memory store and real channels against a fake Slack."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from fakes.slack_server import FakeSlack

from app.delivery import PendingDelivery, attempts_allowed
from app.domain import BaselineSummary, Event
from app.notify.channel import Channel, Outgoing
from app.notify.console import ConsoleChannel
from app.notify.deliver import DeliveryReport, deliver_pending
from app.notify.slack import SlackBotChannel, SlackWebhookChannel
from tests.builders import NOW, FakeClock, event

TOKEN = "xoxb-deliver-test"


@dataclass
class Row:
    delivery: PendingDelivery
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    error: str | None = None
    ref: str | None = None


@dataclass
class MemoryStore:
    """The DeliveryStore protocol with the real store's rules, kept in a dict."""

    rows: dict[int, Row] = field(default_factory=dict)

    def add(self, channel: str, poll_id: int, *items: Event | BaselineSummary) -> list[int]:
        ids = []
        for item in items:
            new_id = len(self.rows) + 1
            is_event = isinstance(item, Event)
            self.rows[new_id] = Row(
                PendingDelivery(
                    id=new_id,
                    poll_id=poll_id,
                    channel=channel,
                    attempts=0,
                    event=item if is_event else None,
                    summary=None if is_event else item,
                )
            )
            ids.append(new_id)
        return ids

    def pending_deliveries(
        self, channel: str, now: datetime, limit: int = 1000
    ) -> list[PendingDelivery]:
        due = [
            PendingDelivery(
                r.delivery.id,
                r.delivery.poll_id,
                channel,
                r.attempts,
                r.delivery.event,
                r.delivery.summary,
            )
            for r in self.rows.values()
            if r.delivery.channel == channel
            and r.status == "pending"
            and (r.next_attempt_at is None or r.next_attempt_at <= now)
        ]
        return sorted(due, key=lambda d: d.id)[:limit]

    def mark_sent(self, ids: Sequence[int], now: datetime, external_ref: str | None = None) -> None:
        for i in ids:
            assert self.rows[i].status == "pending", f"delivery {i} marked sent twice"
            self.rows[i].status, self.rows[i].ref = "sent", external_ref

    def mark_failed(
        self,
        ids: Sequence[int],
        now: datetime,
        error: str,
        *,
        permanent: bool,
        max_attempts: int,
        next_attempt_at: datetime | None = None,
        count_attempt: bool = True,
    ) -> None:
        for i in ids:
            row = self.rows[i]
            row.attempts += 1 if count_attempt else 0
            row.error, row.next_attempt_at = error, next_attempt_at
            # As app.outbox: a counted attempt at the classification's limit gives up.
            limit = attempts_allowed(max_attempts, permanent=permanent)
            row.status = "failed" if count_attempt and row.attempts >= limit else "pending"

    def statuses(self, ids: Sequence[int]) -> list[str]:
        return [self.rows[i].status for i in ids]


def ev(i: int) -> Event:
    return event(
        client_id=f"c-{i}", client_name=f"Lender {i}", provider_id=i, provider_name=f"Bank {i:03d}"
    )


def bank_numbers(texts: Sequence[str]) -> list[int]:
    return [int(part[:3]) for text in texts for part in text.split("Bank ")[1:]]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN) as fake:
        yield fake


def bot(slack: FakeSlack, token: str = TOKEN) -> SlackBotChannel:
    return SlackBotChannel(token=token, channel="#alerts", api_url=slack.api_url, timeout=5)


def deliver(
    store: MemoryStore, channels: Sequence[Channel], clock: FakeClock, max_attempts: int = 5
) -> DeliveryReport:
    return deliver_pending(store, channels, now=clock, max_attempts=max_attempts, sleep=clock.sleep)


def test_polls_are_delivered_in_order_and_marked_sent(slack: FakeSlack) -> None:
    store = MemoryStore()
    first = store.add("slack", 1, ev(0), ev(1), ev(2))
    second = store.add("slack", 2, ev(3), ev(4))
    report = deliver(store, [bot(slack)], FakeClock())
    got = slack.wait_for(2)
    assert len(got) == 2  # one message per poll
    assert bank_numbers([m.text for m in got]) == [0, 1, 2, 3, 4]
    assert store.statuses(first + second) == ["sent"] * 5
    refs = [store.rows[i].ref or "" for i in first + second]
    assert all(ref.startswith("#alerts:") for ref in refs)
    assert len(set(refs)) == 2  # one Slack message (channel:ts) per poll
    assert (report.sent, report.failed, report.pending, report.errors) == (5, 0, 0, [])


def test_baseline_summary_is_delivered(slack: FakeSlack) -> None:
    store = MemoryStore()
    summary = BaselineSummary(poll_id=1, observed_at=NOW, total=3, by_status=(("ACTIVE", 3),))
    (row,) = store.add("slack", 1, summary)
    assert deliver(store, [bot(slack)], FakeClock()).sent == 1
    (got,) = slack.wait_for(1)
    assert "Now watching 3 registrations: 3 ACTIVE" in got.text
    assert store.statuses([row]) == ["sent"]


def test_a_failing_channel_does_not_block_another(slack: FakeSlack) -> None:
    store = MemoryStore()
    bad = store.add("slack", 1, ev(0), ev(1))
    good = store.add("slack_webhook", 1, ev(0), ev(1))
    webhook = SlackWebhookChannel(url=slack.webhook_url, timeout=5)
    channels: list[Channel] = [bot(slack, token="xoxb-revoked"), webhook]
    report = deliver(store, channels, FakeClock(), max_attempts=1)
    assert store.statuses(good) == ["sent", "sent"]
    assert store.statuses(bad) == ["failed", "failed"]  # invalid_auth: needs a person
    assert report.sent == 2
    assert report.failed == 2
    assert len(report.errors) == 1
    assert "invalid_auth" in report.errors[0]
    assert "xoxb" not in report.errors[0]


class Exploding(Channel):
    name = "broken"
    min_interval = 0.0

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        raise RuntimeError("bug with secret xoxb-should-not-leak")


def test_an_exception_in_one_channel_is_a_transient_failure(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.notify.deliver")
    store = MemoryStore()
    broken = store.add("broken", 1, ev(0))
    fine = store.add("slack", 1, ev(0))
    report = deliver(store, [Exploding(), bot(slack)], FakeClock())
    assert store.statuses(fine) == ["sent"]
    assert store.statuses(broken) == ["pending"]
    assert store.rows[broken[0]].attempts == 1
    assert store.rows[broken[0]].error == "unexpected RuntimeError"
    assert report.pending == 1
    failed_lines = [r.getMessage() for r in caplog.records if "delivery.failed" in r.getMessage()]
    assert failed_lines == [
        "delivery.failed channel=broken permanent=False error=unexpected RuntimeError"
    ]


def test_a_failure_midway_marks_only_the_messages_that_went_through(slack: FakeSlack) -> None:
    store = MemoryStore()
    ids = store.add("slack", 1, *(ev(i) for i in range(200)))
    channel = bot(slack)
    messages = channel.render([ev(i) for i in range(200)], None)
    assert len(messages) >= 4
    slack.let_through(2)
    slack.http_error(500)
    report = deliver(store, [channel], FakeClock())
    got = slack.wait_for(2)
    carried = [i for m in messages[:2] for i in m.event_indexes]
    assert store.statuses([ids[i] for i in carried]) == ["sent"] * len(carried)
    rest = [i for i in ids if store.rows[i].status != "sent"]
    assert len(rest) == 200 - len(carried)
    failing = {ids[i] for i in messages[2].event_indexes}
    assert all(store.rows[i].status == "pending" for i in rest)
    # Only the message that failed counts an attempt; the ones behind it were never tried.
    assert all(store.rows[i].attempts == (1 if i in failing else 0) for i in rest)
    assert "HTTP 500" in (store.rows[rest[0]].error or "")
    # The failed message counts in `failed` (this cycle's failures) and stays pending.
    assert (report.sent, report.pending, report.failed) == (len(carried), len(rest), len(failing))
    assert len(slack.requests) == 3  # stopped after the failure: no hammering

    # The next cycle resumes where it stopped: every event exactly once, in order.
    assert deliver(store, [channel], FakeClock()).sent == len(rest)
    got = slack.wait_for(len(messages))
    # Read from the blocks: the text of a big group ends in "and N more" (issue 15 item 7).
    sections = [b["text"]["text"] for m in got for b in m.blocks if b["type"] == "section"]
    assert bank_numbers(sections) == list(range(200))
    assert store.statuses(ids) == ["sent"] * 200


def test_rate_limit_delays_without_losing_anything(slack: FakeSlack) -> None:
    store = MemoryStore()
    first = store.add("slack", 1, ev(0))
    later = store.add("slack", 2, ev(1))
    slack.rate_limit(retry_after=30)
    clock = FakeClock()
    report = deliver(store, [bot(slack)], clock)
    assert report.pending == 2
    for i in first + later:  # the whole queue waits, so order is kept
        assert store.rows[i].status == "pending"
        assert store.rows[i].next_attempt_at == clock.now + timedelta(seconds=30)
    clock.advance(seconds=10)
    assert deliver(store, [bot(slack)], clock).sent == 0
    assert slack.received == []
    clock.advance(seconds=21)
    assert deliver(store, [bot(slack)], clock).sent == 2
    assert bank_numbers([m.text for m in slack.wait_for(2)]) == [0, 1]


def test_permanent_failures_run_out_into_failed(slack: FakeSlack) -> None:
    store = MemoryStore()
    (row,) = store.add("slack", 1, ev(0))
    for _ in range(2):
        slack.api_error("channel_not_found")
    first = deliver(store, [bot(slack)], FakeClock(), max_attempts=2)
    # Not given up yet, but this cycle's failure is reported.
    assert (store.statuses([row]), first.failed, first.pending) == (["pending"], 1, 1)
    report = deliver(store, [bot(slack)], FakeClock(), max_attempts=2)
    assert store.statuses([row]) == ["failed"]
    assert (report.failed, report.pending) == (1, 0)


def test_an_unknown_slack_error_gives_up_at_max_attempts(slack: FakeSlack) -> None:
    store = MemoryStore()
    (row,) = store.add("slack", 1, ev(0))
    slack.api_error("some_new_error")
    report = deliver(store, [bot(slack)], FakeClock(), max_attempts=1)
    assert store.statuses([row]) == ["failed"]
    assert (report.sent, report.failed, report.pending) == (0, 1, 0)
    assert "some_new_error" in report.errors[0]
    assert deliver(store, [bot(slack)], FakeClock(), max_attempts=1).failed == 0  # nothing to retry
    assert slack.requests == ["/api/chat.postMessage"]


def test_transient_failures_are_reported_every_cycle_and_run_out_later(
    slack: FakeSlack,
) -> None:
    store = MemoryStore()
    (row,) = store.add("slack", 1, ev(0))
    for _ in range(3):
        slack.http_error(503)
        report = deliver(store, [bot(slack)], FakeClock(), max_attempts=2)
        assert (report.failed, report.pending) == (1, 1)
    assert store.statuses([row]) == ["pending"]
    assert store.rows[row].attempts == 3
    assert deliver(store, [bot(slack)], FakeClock(), max_attempts=2).sent == 1

    # Bounded all the same: at a hundred times DELIVERY_MAX_ATTEMPTS a transient failure gives up.
    (doomed,) = store.add("slack", 2, ev(1))
    store.rows[doomed].attempts = attempts_allowed(2, permanent=False) - 1
    slack.http_error(503)
    report = deliver(store, [bot(slack)], FakeClock(), max_attempts=2)
    assert store.statuses([doomed]) == ["failed"]
    assert (report.failed, report.pending) == (1, 0)


def test_min_interval_between_messages_to_one_channel(slack: FakeSlack) -> None:
    store = MemoryStore()
    store.add("slack", 1, ev(0))
    store.add("slack", 2, ev(1))
    store.add("slack", 3, ev(2))
    store.add("console", 1, ev(0))
    store.add("console", 2, ev(1))
    clock = FakeClock()
    deliver(store, [bot(slack), ConsoleChannel()], clock)
    assert clock.sleeps == [1.0, 1.0]  # two gaps on Slack, none on the console


def test_no_needless_sleep_when_time_already_passed(slack: FakeSlack) -> None:
    store = MemoryStore()
    store.add("slack", 1, ev(0))
    store.add("slack", 2, ev(1))
    store.add("slack", 3, ev(2))
    slow = FakeClock(step=0.3)  # every clock reading is 0.3 s later: sends take time
    deliver(store, [bot(slack)], slow)
    assert len(slow.sleeps) == 2
    assert all(0 < s <= 0.7 for s in slow.sleeps)
    slower = FakeClock(step=2.0)
    store.add("slack", 4, ev(3))
    store.add("slack", 5, ev(4))
    deliver(store, [bot(slack)], slower)
    assert slower.sleeps == []


def test_console_alerts_are_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="flinkswatch.alerts")
    store = MemoryStore()
    ids = store.add("console", 1, ev(7))
    assert deliver(store, [ConsoleChannel()], FakeClock()).sent == 1
    assert store.statuses(ids) == ["sent"]
    (record,) = [r for r in caplog.records if r.name == "flinkswatch.alerts"]
    assert record.levelno == logging.INFO
    assert "Bank 007" in record.getMessage()
    assert "PENDING_APPROVAL -> PENDING_ACTIVATION" in record.getMessage()


def test_shutdown_mid_channel_leaves_the_rest_pending_untouched(slack: FakeSlack) -> None:
    """An injected wait that raises Interrupted (SIGTERM, lost leadership) stops delivery:
    what went through is marked sent, nothing else is marked, no other channel starts."""
    from app.domain import Interrupted

    store = MemoryStore()
    first = store.add("slack", 1, ev(0))
    second = store.add("slack", 2, ev(1))
    other = store.add("slack_webhook", 1, ev(0))
    clock = FakeClock()

    def stop_on_wait(_seconds: float) -> None:
        raise Interrupted("shutdown requested")

    webhook = SlackWebhookChannel(url=slack.webhook_url, timeout=5)
    report = deliver_pending(
        store, [bot(slack), webhook], now=clock, max_attempts=5, sleep=stop_on_wait
    )
    assert store.statuses(first) == ["sent"]
    assert store.statuses(second + other) == ["pending", "pending"]
    assert [store.rows[i].attempts for i in second + other] == [0, 0]
    assert (report.sent, report.failed, report.errors) == (1, 0, [])
    assert len(slack.received) == 1
