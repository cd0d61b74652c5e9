"""Slack bot and webhook channels against a fake Slack over real HTTP on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fakes.slack_server import FakeSlack, Scripted
from fakes.smtp_server import free_port

from app.core.routing import Filter, plan_deliveries
from app.db import engine as db
from app.db.outbox import Outbox
from app.db.store import Store
from app.db.threads import SlackThreadTable
from app.delivery import DeliveryFailure
from app.domain import ALERTED_BY_DEFAULT, CycleRecord, Event, Outcome
from app.notify.deliver import DeliveryReport, deliver_pending
from app.notify.render import THREADED_MAX_REGISTRATIONS, slack_messages
from app.notify.slack import SlackBotChannel, SlackWebhookChannel, retry_after
from app.notify.slack_threads import SlackThreads
from tests.builders import NOW, FakeClock, event

TOKEN = "xoxb-super-secret-token"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN) as fake:
        yield fake


def bot(slack: FakeSlack, token: str = TOKEN) -> SlackBotChannel:
    return SlackBotChannel(token=token, channel="#alerts", api_url=slack.api_url, timeout=5)


def send(channel: SlackBotChannel | SlackWebhookChannel, *events: Event) -> str | None:
    (message,) = channel.render(list(events) or [event()], None)
    return message.send()


def test_bot_posts_blocks_and_text_and_returns_channel_ts(slack: FakeSlack) -> None:
    ref = send(bot(slack))
    (got,) = slack.wait_for(1)
    assert got.channel == "#alerts"
    assert "PENDING_APPROVAL -&gt; PENDING_ACTIVATION" in got.text  # `>` escaped
    assert got.blocks[0]["type"] == "header"
    assert got.payload["unfurl_links"] is False
    assert got.payload["unfurl_media"] is False
    assert ref is not None
    assert ref.startswith("#alerts:")
    assert float(ref.split(":", 1)[1]) > 0


def test_bot_rate_limited_is_transient_with_retry_after(slack: FakeSlack) -> None:
    slack.rate_limit(retry_after=7)
    with pytest.raises(DeliveryFailure) as caught:
        send(bot(slack))
    assert caught.value.permanent is False
    assert caught.value.retry_after == 7
    assert slack.received == []
    assert slack.requests == ["/api/chat.postMessage"]  # no retry inside the call


def test_bot_invalid_auth_is_permanent_and_never_shows_the_token(slack: FakeSlack) -> None:
    with pytest.raises(DeliveryFailure) as caught:
        send(bot(slack, token="xoxb-wrong-but-secret"))
    assert caught.value.permanent is True
    assert "invalid_auth" in str(caught.value)
    assert "xoxb" not in str(caught.value)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_bot_channel_errors_are_permanent_with_a_hint(slack: FakeSlack, error: str) -> None:
    slack.api_error(error)
    with pytest.raises(DeliveryFailure) as caught:
        send(bot(slack))
    assert caught.value.permanent is True
    assert error in str(caught.value)
    assert "invite the bot" in str(caught.value)
    assert "chat:write.public" in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "request_timeout"])
def test_bot_server_side_errors_are_transient(slack: FakeSlack, error: str) -> None:
    slack.api_error(error)
    with pytest.raises(DeliveryFailure) as caught:
        send(bot(slack))
    assert caught.value.permanent is False


@pytest.mark.parametrize("error", ["some_new_error", "method_deprecated", "invalid_charset"])
def test_bot_unknown_errors_are_permanent(slack: FakeSlack, error: str) -> None:
    # Retrying cannot fix what we do not understand: a person has to look (issue 14).
    slack.api_error(error)
    with pytest.raises(DeliveryFailure) as caught:
        send(bot(slack))
    assert caught.value.permanent is True
    assert f"Slack chat.postMessage failed: {error} (HTTP 200)" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>Please log in to the guest Wi-Fi</body></html>",  # a captive portal
        "",  # an empty answer
        "[1, 2]",  # JSON, but not Slack's object
        '{"status": "proxy says hello"}',  # an object without Slack's "ok"
    ],
)
def test_bot_200_that_is_not_slacks_answer_is_a_transient_failure(
    slack: FakeSlack, body: str
) -> None:
    slack.enqueue(Scripted(200, body, {"Content-Type": "text/html"}))
    with pytest.raises(DeliveryFailure) as caught:
        send(bot(slack))
    assert caught.value.permanent is False
    assert "not an answer from Slack" in str(caught.value)
    assert "HTTP 200" in str(caught.value) or "unreadable" in str(caught.value)
    assert "SLACK_API_URL" in str(caught.value)
    assert "<html>" not in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_bot_check_reports_a_non_slack_answer(slack: FakeSlack) -> None:
    slack.enqueue(Scripted(200, "<html>proxy error</html>"))
    with pytest.raises(DeliveryFailure) as caught:
        bot(slack).check()
    assert caught.value.permanent is False
    assert "auth.test" in str(caught.value)
    assert "not an answer from Slack" in str(caught.value)


@pytest.mark.parametrize("status", [408, 502, 504])
def test_bot_http_timeouts_and_gateway_errors_are_transient(slack: FakeSlack, status: int) -> None:
    slack.http_error(status)
    with pytest.raises(DeliveryFailure) as caught:
        send(bot(slack))
    assert caught.value.permanent is False
    assert f"HTTP {status}" in str(caught.value)


def test_bot_http_500_is_transient(slack: FakeSlack) -> None:
    slack.http_error(500)
    with pytest.raises(DeliveryFailure) as caught:
        send(bot(slack))
    assert caught.value.permanent is False
    assert "HTTP 500" in str(caught.value)
    assert "<html>" not in str(caught.value)


def test_bot_dropped_connection_is_transient(slack: FakeSlack) -> None:
    slack.drop_connection()
    with pytest.raises(DeliveryFailure) as caught:
        send(bot(slack))
    assert caught.value.permanent is False
    assert len(slack.requests) == 1  # the SDK's connection-retry handler is off


def test_bot_connection_refused_is_transient() -> None:
    channel = SlackBotChannel(
        token=TOKEN, channel="#a", api_url=f"http://127.0.0.1:{free_port()}/api/", timeout=2
    )
    with pytest.raises(DeliveryFailure) as caught:
        send(channel)
    assert caught.value.permanent is False
    assert "unreachable" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_bot_check_reports_team_and_user(slack: FakeSlack) -> None:
    assert bot(slack).check() == "Slack bot ok (team Fake Team, user flinkswatch)"
    with pytest.raises(DeliveryFailure) as caught:
        bot(slack, token="xoxb-nope").check()
    assert caught.value.permanent is True
    assert "xoxb" not in str(caught.value)


def test_bot_splits_a_big_poll_into_accepted_messages(slack: FakeSlack) -> None:
    channel = bot(slack)
    messages = channel.render([event(provider_name=f"Bank {i}") for i in range(120)], None)
    for message in messages:
        message.send()
    got = slack.wait_for(len(messages))
    assert len(got) == len(messages) > 1
    assert sum(len(m.event_indexes) for m in messages) == 120


# ---- webhook ---------------------------------------------------------------------------------
def webhook(slack: FakeSlack) -> SlackWebhookChannel:
    return SlackWebhookChannel(url=slack.webhook_url, timeout=5)


def test_webhook_posts_and_returns_no_ref(slack: FakeSlack) -> None:
    assert send(webhook(slack)) is None
    (got,) = slack.wait_for(1)
    assert got.via == "webhook"
    assert "NBC" in got.text
    assert got.blocks[1]["type"] == "section"


def test_webhook_rate_limited_is_transient_with_retry_after(slack: FakeSlack) -> None:
    slack.rate_limit(retry_after=4, webhook=True)
    with pytest.raises(DeliveryFailure) as caught:
        send(webhook(slack))
    assert caught.value.permanent is False
    assert caught.value.retry_after == 4


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
        (403, "action_prohibited"),
        (400, "invalid_payload"),
        (400, "no_service"),
    ],
)
def test_webhook_client_errors_are_permanent(slack: FakeSlack, status: int, body: str) -> None:
    slack.http_error(status, body)
    with pytest.raises(DeliveryFailure) as caught:
        send(webhook(slack))
    assert caught.value.permanent is True
    assert body in str(caught.value)
    assert "s3cr3tWebhookPart" not in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>Please log in to the guest Wi-Fi</body></html>",  # a captive portal
        "",  # nothing at all
        '{"ok": true}',  # Slack's webhooks answer the two letters ok, nothing else
    ],
)
def test_webhook_200_that_is_not_ok_is_not_a_delivery(slack: FakeSlack, body: str) -> None:
    slack.enqueue(Scripted(200, body))
    with pytest.raises(DeliveryFailure) as caught:
        send(webhook(slack))
    assert caught.value.permanent is False
    assert "not an answer from Slack" in str(caught.value)
    assert "HTTP 200" in str(caught.value)
    assert "<html>" not in str(caught.value)
    assert "s3cr3tWebhookPart" not in str(caught.value)


def test_webhook_unknown_error_is_permanent(slack: FakeSlack) -> None:
    slack.http_error(400, "some_new_error")
    with pytest.raises(DeliveryFailure) as caught:
        send(webhook(slack))
    assert caught.value.permanent is True
    assert "some_new_error" in str(caught.value)


def test_webhook_answer_in_a_broken_charset_is_a_transient_failure(slack: FakeSlack) -> None:
    slack.enqueue(Scripted(200, "ok", {"Content-Type": "text/plain; charset=no-such-charset"}))
    with pytest.raises(DeliveryFailure) as caught:
        send(webhook(slack))
    assert caught.value.permanent is False
    assert "not a usable" not in str(caught.value)  # the URL is fine; the answer is not
    assert "not an answer from Slack" in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_webhook_server_errors_are_transient(slack: FakeSlack, status: int) -> None:
    slack.http_error(status, "rollup_error")
    with pytest.raises(DeliveryFailure) as caught:
        send(webhook(slack))
    assert caught.value.permanent is False


def test_webhook_network_errors_are_transient_and_hide_the_url(slack: FakeSlack) -> None:
    slack.drop_connection()
    with pytest.raises(DeliveryFailure) as dropped:
        send(webhook(slack))
    down = SlackWebhookChannel(url=f"http://127.0.0.1:{free_port()}/services/T/B/hush", timeout=2)
    with pytest.raises(DeliveryFailure) as refused:
        send(down)
    for caught in (dropped, refused):
        assert caught.value.permanent is False
        assert "s3cr3tWebhookPart" not in str(caught.value)
        assert "hush" not in str(caught.value)
        assert "127.0.0.1" not in str(caught.value)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after({"Retry-After": "30"}) == 30
    assert retry_after({"retry-after": ["2"]}) == 2
    assert retry_after({}) is None
    assert retry_after({"Retry-After": "Mon, 02 Mar 2026 15:01:00 GMT"}, now=NOW) == 60
    assert retry_after({"Retry-After": "99999999"}) == 3600
    assert retry_after({"Retry-After": "soon"}) is None


def test_webhook_unusable_url_is_permanent_and_not_quoted() -> None:
    channel = SlackWebhookChannel(url="ftp://hooks.example/T/B/hushhush", timeout=2)
    with pytest.raises(DeliveryFailure) as caught:
        send(channel)
    assert caught.value.permanent is True
    assert "hushhush" not in str(caught.value)


# ---- whole polls through the outbox: limits, pacing, rate limits, auth, threads ------------


def numbered(i: int, client: str | None = None) -> Event:
    return event(client_id=client or f"c-{i:03d}", provider_id=i, provider_name=f"Bank {i:03d}")


@pytest.fixture
def outbox_engine(sqlite_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(sqlite_url)
    db.migrate(engine)
    yield engine
    engine.dispose()


def record_poll(engine: sa.Engine, events: list[Event]) -> None:
    plan = plan_deliveries(events, [("slack", Filter())], ALERTED_BY_DEFAULT)
    record = CycleRecord(NOW, NOW, Outcome.OK, len(events), 0, (), tuple(events), plan, None)
    Store(engine).record_cycle(record)


def run(engine: sa.Engine, channel: SlackBotChannel, clock: FakeClock) -> DeliveryReport:
    return deliver_pending(Outbox(engine), [channel], clock, 10, sleep=clock.sleep)


def bank_order(got: list[Any]) -> list[int]:
    """The events as the messages' blocks show them (the text may end in "and N more")."""
    sections = [b["text"]["text"] for m in got for b in m.blocks if b["type"] == "section"]
    return [int(p[:3]) for s in sections for p in s.split("*Bank ")[1:]]


def test_two_hundred_events_arrive_complete_in_order_one_message_per_second(
    slack: FakeSlack, outbox_engine: sa.Engine
) -> None:
    events = [numbered(i) for i in range(200)]
    record_poll(outbox_engine, events)
    n = len(slack_messages(events))  # as many events a message as Slack's limits allow
    clock = FakeClock()
    report = run(outbox_engine, bot(slack), clock)
    got = slack.wait_for(n)
    assert (report.sent, report.pending, report.failed) == (200, 0, 0)
    assert 5 <= len(got) == n <= 10  # grouped, never one message per event
    assert bank_order(got) == list(range(200))
    assert clock.sleeps == [1.0] * (n - 1)  # a second between two messages, none before
    sent_at = sorted({r["sent_at"] for r in Outbox(outbox_engine).list_deliveries()})
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)] == [1.0] * (n - 1)


def test_real_pacing_is_measured_at_the_fake_slack(
    slack: FakeSlack, outbox_engine: sa.Engine
) -> None:
    events = [numbered(i) for i in range(120)]
    record_poll(outbox_engine, events)
    n = len(slack_messages(events))
    channel = bot(slack)
    channel.min_interval = 0.2  # the real clock and sleep, scaled down to keep the test fast
    deliver_pending(Outbox(outbox_engine), [channel], lambda: datetime.now(UTC), 10)
    got = slack.wait_for(n)
    gaps = [b.at - a.at for a, b in itertools.pairwise(got)]
    assert len(got) == n >= 3
    assert all(gap >= 0.19 for gap in gaps), gaps


def test_429_delays_by_retry_after_and_loses_nothing(
    slack: FakeSlack, outbox_engine: sa.Engine
) -> None:
    events = [numbered(i) for i in range(200)]
    record_poll(outbox_engine, events)
    sizes = [len(m.event_indexes) for m in slack_messages(events)]
    slack.let_through(2)
    slack.rate_limit(retry_after=30)
    clock = FakeClock()
    first = run(outbox_engine, bot(slack), clock)
    sent = sizes[0] + sizes[1]
    assert (first.sent, first.pending, first.failed) == (sent, 200 - sent, sizes[2])  # refused
    clock.advance(seconds=29)
    assert run(outbox_engine, bot(slack), clock).sent == 0  # Retry-After not over yet
    clock.advance(seconds=2)
    assert run(outbox_engine, bot(slack), clock).sent == 200 - sent
    got = slack.wait_for(len(sizes))
    assert bank_order(got) == list(range(200))  # complete, in order, nothing twice


def test_invalid_auth_is_one_request_and_one_log_line_per_cycle(
    slack: FakeSlack, outbox_engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    events = [numbered(i) for i in range(200)]
    record_poll(outbox_engine, events)
    first_message = len(slack_messages(events)[0].event_indexes)
    clock = FakeClock()
    for cycle in (1, 2):
        report = run(outbox_engine, bot(slack, token="xoxb-revoked"), clock)
        # This cycle's failure is reported (the alerts of the message tried), none given up.
        assert (report.sent, report.failed, report.pending) == (0, first_message, 200)
        assert slack.requests == ["/api/chat.postMessage"] * cycle
    failures = [r for r in caplog.records if r.getMessage().startswith("delivery.failed")]
    assert len(failures) == 2
    assert "invalid_auth" in failures[0].getMessage()
    rows = Outbox(outbox_engine).list_deliveries()
    # The first message was tried twice; the ones queued behind it were never tried.
    tried = Counter((r["status"], r["attempts"]) for r in rows)
    assert tried == {("pending", 2): first_message, ("pending", 0): 200 - first_message}


def test_later_events_of_a_registration_reply_in_its_thread(
    slack: FakeSlack, outbox_engine: sa.Engine
) -> None:
    channel = SlackBotChannel(
        TOKEN, "#alerts", slack.api_url, 5, threads=SlackThreads(SlackThreadTable(outbox_engine))
    )
    clock = FakeClock()
    record_poll(outbox_engine, [numbered(1), numbered(2)])
    run(outbox_engine, channel, clock)
    first = slack.wait_for(2)
    assert [m.payload.get("thread_ts") for m in first] == [None, None]  # two new threads
    record_poll(outbox_engine, [replace(numbered(2), from_status="PENDING_ACTIVATION")])
    run(outbox_engine, channel, clock)
    reply = slack.wait_for(3)[2]
    root_ts = Outbox(outbox_engine).list_deliveries(limit=5)[-1]["external_ref"]
    assert (
        reply.payload["thread_ts"]
        == SlackThreadTable(outbox_engine).root("#alerts", ("c-002", 2))[1]
    )
    assert reply.payload["thread_ts"] != root_ts.split(":")[1]  # c-002's root, not c-001's
    assert "Bank 002" in reply.text


def test_a_burst_is_grouped_in_the_channel_not_threaded(
    slack: FakeSlack, outbox_engine: sa.Engine
) -> None:
    channel = SlackBotChannel(
        TOKEN, "#alerts", slack.api_url, 5, threads=SlackThreads(SlackThreadTable(outbox_engine))
    )
    record_poll(outbox_engine, [numbered(i) for i in range(THREADED_MAX_REGISTRATIONS + 1)])
    run(outbox_engine, channel, FakeClock())
    (message,) = slack.wait_for(1)
    assert "thread_ts" not in message.payload
    assert SlackThreadTable(outbox_engine).root("#alerts", ("c-000", 0)) is None


def test_dry_run_preview_is_the_payload(slack: FakeSlack) -> None:
    (message,) = bot(slack).render([event()], None)
    payload = json.loads(message.preview)
    assert payload["channel"] == "#alerts"
    assert payload["blocks"][0]["type"] == "header"
    assert "PENDING_APPROVAL -&gt; PENDING_ACTIVATION" in payload["text"]
    assert slack.requests == []


def test_unknown_error_fails_for_good_at_one_attempt_and_is_reported(
    slack: FakeSlack, outbox_engine: sa.Engine
) -> None:
    """Issue 14: some_new_error was retried for ever, still pending at attempts=4 with
    DELIVERY_MAX_ATTEMPTS=1, and the cycle said delivery_failures=0."""
    record_poll(outbox_engine, [numbered(1)])
    clock = FakeClock()
    for cycle in range(4):
        slack.api_error("some_new_error")
        report = deliver_pending(Outbox(outbox_engine), [bot(slack)], clock, 1, clock.sleep)
        assert (report.sent, report.failed, report.pending) == (
            (0, 1, 0) if cycle == 0 else (0,) * 3
        )
    (row,) = Outbox(outbox_engine).list_deliveries()
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "some_new_error" in str(row["last_error"])
    assert slack.requests == ["/api/chat.postMessage"]


def test_webhook_captive_portal_is_not_marked_sent(
    slack: FakeSlack, outbox_engine: sa.Engine
) -> None:
    record_poll(outbox_engine, [numbered(1)])
    slack.enqueue(Scripted(200, "<html>Welcome to Airport Wi-Fi</html>"))
    clock = FakeClock()
    channel = webhook(slack)
    channel.name = "slack"  # the channel the poll's deliveries were recorded for
    first = deliver_pending(Outbox(outbox_engine), [channel], clock, 10, clock.sleep)
    assert (first.sent, first.failed, first.pending) == (0, 1, 1)
    assert slack.received == []
    again = deliver_pending(Outbox(outbox_engine), [channel], clock, 10, clock.sleep)
    assert (again.sent, again.failed, again.pending) == (1, 0, 0)
    assert len(slack.wait_for(1)) == 1
