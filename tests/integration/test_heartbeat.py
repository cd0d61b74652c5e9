"""Heartbeat pings (SPEC 8) against a real HTTP server on 127.0.0.1: one GET of HEARTBEAT_URL
per successful cycle, one of HEARTBEAT_FAIL_URL per failed one; a ping that fails changes
nothing else and never shows its URL."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from app.config.settings import ConfigError, load_settings
from app.domain import CycleResult, Outcome
from app.flinks.client import FlinksUnavailable
from app.notify.heartbeat import Heartbeat
from tests.builders import FakeClock
from tests.fakes.heartbeat_server import FakeHeartbeat
from tests.integration.test_poll import T0, FakeChannel, FakeSource, make_poller, row


@pytest.fixture
def server() -> Iterator[FakeHeartbeat]:
    with FakeHeartbeat() as hb:
        yield hb


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_one_success_ping_per_good_cycle_and_one_fail_ping_per_failed_one(
    engine: sa.Engine, server: FakeHeartbeat
) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    poller = make_poller(engine, source, channel, clock)
    with closing(
        Heartbeat(f"{server.url}/ping/uuid-1", f"{server.url}/ping/uuid-1/fail")
    ) as heartbeat:
        poller.heartbeat = heartbeat.ping
        assert poller.poll_once().outcome is Outcome.OK  # baseline
        clock.advance(minutes=5)
        assert poller.poll_once().outcome is Outcome.OK
        source.error = FlinksUnavailable("Flinks unreachable: ConnectError")
        assert poller.poll_once().outcome is Outcome.FAILED

    assert server.wait_for(3) == ["/ping/uuid-1", "/ping/uuid-1", "/ping/uuid-1/fail"]


def test_a_degraded_cycle_is_a_successful_one(server: FakeHeartbeat) -> None:
    with closing(Heartbeat(f"{server.url}/ok", f"{server.url}/fail")) as heartbeat:
        heartbeat.ping(CycleResult(outcome=Outcome.DEGRADED, rows=3, skipped=1))
    assert server.paths() == ["/ok"]


def test_without_a_fail_url_a_failed_cycle_pings_nothing(server: FakeHeartbeat) -> None:
    with closing(Heartbeat(f"{server.url}/ok", None)) as heartbeat:
        heartbeat.ping(CycleResult(outcome=Outcome.FAILED, error="x", failure_kind="database"))
    assert server.paths() == []


def test_a_cycle_stopped_by_lost_leadership_is_not_reported(server: FakeHeartbeat) -> None:
    """The new leader's cycles ping; this instance's unfinished one says nothing."""
    with closing(Heartbeat(f"{server.url}/ok", f"{server.url}/fail")) as heartbeat:
        heartbeat.ping(CycleResult(outcome=Outcome.FAILED, failure_kind="leadership"))
    assert server.paths() == []


@pytest.mark.parametrize("answer", ["unreachable", "http 500"])
def test_a_failing_ping_changes_nothing_else_and_never_logs_its_url(
    engine: sa.Engine, answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    poller = make_poller(engine, source, channel, clock)
    caplog.set_level(logging.DEBUG)
    with FakeHeartbeat(status=500) as server:
        base = server.url if answer == "http 500" else f"http://127.0.0.1:{closed_port()}"
        url = f"{base}/ping/secret-uuid-7f3a"
        with closing(Heartbeat(url, None)) as heartbeat:
            poller.heartbeat = heartbeat.ping
            result = poller.poll_once()

    assert result.outcome is Outcome.OK
    assert channel.sent == [("summary:1",)]  # the baseline was delivered as usual
    warnings = [r.getMessage() for r in caplog.records if r.name == "app.notify.heartbeat"]
    assert len(warnings) == 1
    assert warnings[0].startswith("heartbeat.failed ping=success")
    # Ours never name it; httpx's own request line (DEBUG in production) goes through the
    # redaction filter, which knows HEARTBEAT_URL (test_heartbeat_urls_are_secret_http_urls).
    assert not [r for r in caplog.records if r.name.startswith("app") and "7f3a" in r.getMessage()]


def test_a_ping_never_raises_even_for_an_unusable_url() -> None:
    with closing(Heartbeat("http://[::1", None)) as heartbeat:
        heartbeat.ping(CycleResult(outcome=Outcome.OK))  # logged, not raised


def test_heartbeat_urls_are_secret_http_urls() -> None:
    settings = load_settings(
        _env_file=None,
        heartbeat_url=SecretStr("https://hc-ping.com/5b4c-uuid"),
        heartbeat_fail_url="https://hc-ping.com/5b4c-uuid/fail",
    )
    assert "https://hc-ping.com/5b4c-uuid" in settings.secret_values()
    assert "5b4c-uuid" not in repr(settings)
    with pytest.raises(ConfigError, match=r"^HEARTBEAT_URL: must start with http:// or https://"):
        load_settings(_env_file=None, heartbeat_url="hc-ping.com/5b4c-uuid")


def test_the_ping_has_a_short_timeout() -> None:
    with closing(Heartbeat("http://127.0.0.1:9/ok", None)) as heartbeat:
        timeout = heartbeat.http.timeout
    assert isinstance(timeout, httpx.Timeout)
    assert timeout.read is not None
    assert timeout.read <= 10
