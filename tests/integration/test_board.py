"""The Slack board (SPEC 10) through a real database (SQLite and PostgreSQL) and the fake Slack:
posted once and pinned, then edited in place (the same ts) after a change, across a restart
too; an unchanged board is not edited; a deleted one is replaced; a missing pins:write scope is
logged once; Retry-After is honoured; a failing board never fails the cycle."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa

from app.db.board import BoardTable
from app.db.outbox import Outbox
from app.db.store import Store
from app.domain import Outcome
from app.notify.channel import Channel
from app.notify.slack import SlackBotChannel
from app.watch.boardwatch import REFRESH, BoardWatch
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.fakes.slack_server import FakeSlack
from tests.integration.test_poll import T0, FakeChannel, FakeSource, row

CHANNEL = "#partners"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def bot(slack: FakeSlack) -> SlackBotChannel:
    return SlackBotChannel(slack.token, CHANNEL, slack.api_url, timeout=5)


def poller(
    engine: sa.Engine,
    source: FakeSource,
    slack: FakeSlack,
    clock: FakeClock,
    channels: list[Channel] | None = None,
) -> Poller:
    """A new process: a new Poller and BoardWatch over the same database."""
    board_bot = bot(slack)
    watch = Poller(
        source=source,
        store=Store(engine),
        outbox=Outbox(engine),
        channels=channels or [FakeChannel()],
        clock=clock,
        sleep=clock.sleep,
    )
    stuck = {"PENDING_APPROVAL": timedelta(days=3)}
    watch.board = BoardWatch(BoardTable(engine), [board_bot], stuck, UTC, clock, clock.sleep)
    return watch


def stored(engine: sa.Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT destination, slack_channel, ts FROM slack_boards"))
        return [tuple(r) for r in rows]


def board_text(message: object) -> str:
    blocks = getattr(message, "blocks")  # noqa: B009 - a Received
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in blocks)


def test_posted_once_then_edited_in_place_across_a_restart(
    engine: sa.Engine, slack: FakeSlack
) -> None:
    source, clock = FakeSource([row("a", 1), row("b", 2, "ACTIVE")]), FakeClock(T0)
    first = poller(engine, source, slack, clock)
    assert first.poll_once().outcome is Outcome.OK  # baseline: the board is posted
    [posted] = slack.wait_for(1)
    ts = next(iter(slack.posted))
    assert slack.pins == [(CHANNEL, ts)]
    assert stored(engine) == [(CHANNEL, CHANNEL, ts)]
    assert "PENDING_APPROVAL: 1" in board_text(posted)

    clock.advance(minutes=5)
    source.rows[0] = row("a", 1, "ACTIVE")
    first.poll_once()
    assert [u.payload["ts"] for u in slack.updates] == [ts]
    assert "ACTIVE: 2" in board_text(slack.updates[-1])
    assert "PENDING_APPROVAL → ACTIVE" in board_text(slack.updates[-1])

    restarted = poller(engine, source, slack, clock)  # a restart, or the other replica
    clock.advance(minutes=5)
    source.rows.append(row("c", 3))
    restarted.poll_once()
    assert [u.payload["ts"] for u in slack.updates] == [ts, ts]
    assert len(slack.received) == 1  # never posted again
    assert slack.pins == [(CHANNEL, ts)]


def test_an_unchanged_board_is_not_edited_until_it_is_an_hour_old(
    engine: sa.Engine, slack: FakeSlack
) -> None:
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    watch = poller(engine, source, slack, clock)
    watch.poll_once()
    for _ in range(5):
        clock.advance(minutes=5)
        watch.poll_once()
    assert slack.updates == []
    assert [p for p in slack.requests if "chat." in p] == ["/api/chat.postMessage"]
    clock.advance(
        seconds=REFRESH.total_seconds()
    )  # its "last successful poll" would be over an hour old
    watch.poll_once()
    assert len(slack.updates) == 1


def test_a_deleted_board_is_replaced_and_the_new_one_edited(
    engine: sa.Engine, slack: FakeSlack
) -> None:
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    watch = poller(engine, source, slack, clock)
    watch.poll_once()
    old = next(iter(slack.posted))
    slack.deleted.add(old)  # someone deleted the board message
    clock.advance(minutes=5)
    source.rows.append(row("b", 2))
    assert watch.poll_once().outcome is Outcome.OK
    slack.wait_for(2)
    new = [ts for ts in slack.posted if ts != old]
    assert len(new) == 1
    assert stored(engine) == [(CHANNEL, CHANNEL, new[0])]
    assert slack.pins == [(CHANNEL, old), (CHANNEL, new[0])]
    clock.advance(minutes=5)
    source.rows.append(row("c", 3))
    poller(engine, source, slack, clock).poll_once()
    assert [u.payload["ts"] for u in slack.updates] == [new[0]]


def test_a_missing_pins_scope_is_logged_once_and_is_no_error(
    engine: sa.Engine, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.pin_error = "missing_scope"
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    watch = poller(engine, source, slack, clock)
    caplog.set_level(logging.INFO, logger="app.watch.boardwatch")
    result = watch.poll_once()
    for _ in range(2):  # deleted twice: two more posts, two more refused pins
        slack.deleted.update(slack.posted)
        clock.advance(minutes=5)
        source.rows.append(row(f"x{len(source.rows)}", 9))
        watch.poll_once()
    assert len(slack.received) == 3
    assert slack.pins == []
    refused = [r for r in caplog.records if "board.not_pinned" in r.getMessage()]
    assert len(refused) == 1
    assert "pins:write" in refused[0].getMessage()
    assert result.outcome is Outcome.OK
    assert result.delivery_failures == 0


def test_retry_after_is_honoured_and_a_failing_board_never_fails_the_cycle(
    engine: sa.Engine, slack: FakeSlack
) -> None:
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    watch = poller(engine, source, slack, clock)
    slack.rate_limit(retry_after=600)
    result = watch.poll_once()
    assert result.outcome is Outcome.OK
    assert result.delivery_failures == 0
    assert slack.received == []
    assert stored(engine) == []
    for _ in range(2):  # within Retry-After: the board is not even tried
        clock.advance(minutes=4)
        watch.poll_once()
    assert slack.requests == ["/api/chat.postMessage"]
    clock.advance(minutes=3)  # 11 minutes after the 429
    watch.poll_once()
    slack.wait_for(1)
    assert len(stored(engine)) == 1
    slack.api_error("internal_error")  # a failing update: logged, retried next cycle
    clock.advance(minutes=5)
    source.rows.append(row("b", 2))
    assert watch.poll_once().delivery_failures == 0
    assert slack.updates == []
    clock.advance(minutes=5)
    watch.poll_once()
    assert len(slack.updates) == 1


def test_the_board_waits_the_channels_pacing_after_its_alerts(
    engine: sa.Engine, slack: FakeSlack
) -> None:
    """On the bot channel that just posted alerts, the board waits min_interval (1 s)."""
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    alerts = bot(slack)
    watch = poller(engine, source, slack, clock, channels=[alerts])
    watch.poll_once()  # the baseline summary, then the board
    slack.wait_for(2)
    assert clock.sleeps == [1.0]
    assert [r.text.startswith("Flinks registrations board") for r in slack.received] == [
        False,
        True,
    ]
