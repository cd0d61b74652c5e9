"""Issue 22 item 5: a server that answers one byte at a time (no read ever times out) must not
hold a call past its overall deadline. Flinks (token and listing, the retries and their waits
included), Slack (bot and webhook), SMTP and the heartbeat, each against a dripping server on
127.0.0.1: the call fails, in one line and as a transient failure, within its bound."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator

import pytest

from app import deadline
from app.config.settings import load_settings
from app.delivery import DeliveryFailure
from app.domain import CycleResult, Outcome
from app.flinks.client import FlinksClient, FlinksUnavailable
from app.notify import heartbeat as heartbeat_module
from app.notify.email import EmailChannel
from app.notify.slack import SlackBotChannel, SlackWebhookChannel
from app.wiring import build_flinks
from tests.builders import event
from tests.fakes.drip import DripHttp, DripSmtp, Reply

DEADLINE = 1.5  # every bound here
SLACK = 0.75  # SLACK_TIMEOUT_SECONDS and SMTP_TIMEOUT_SECONDS: twice this is the deadline
SLACK_TIMEOUT = 1  # slack-sdk takes whole seconds: its deadline is 2 s
MARGIN = 1.5  # the thread scheduling, the connection's close: never the drip's 20 s
TOKEN = json.dumps({"access_token": "tok-1", "expires_in": 299}).encode()


def _flinks_route(listing: Reply, token: Reply | None = None) -> Callable[[str, str], Reply]:
    def route(_method: str, path: str) -> Reply:
        return (token or Reply(body=TOKEN)) if path.endswith("/token") else listing

    return route


@pytest.fixture
def drip_flinks(request: pytest.FixtureRequest) -> Iterator[DripHttp]:
    listing, token = request.param
    with DripHttp(_flinks_route(listing, token)) as server:
        yield server


def _client(server: DripHttp) -> FlinksClient:
    return FlinksClient(
        server.url + "/api/v1/recipients/providers/requests",
        server.url + "/api/v1/token",
        "client",
        "secret",
        timeout=1.0,  # every single read comes well within it
        deadline_seconds=DEADLINE,
    )


def _timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises((FlinksUnavailable, DeliveryFailure)) as caught:
        call()
    return caught.value, time.monotonic() - started


DRIPPING_BODY = Reply(body=b"[" + b" " * 200 + b"]", drip="body")
CASES = {
    "listing body drips": (DRIPPING_BODY, None),
    "listing head drips": (Reply(drip="head"), None),
    "token head drips": (Reply(body=b"[]"), Reply(drip="head")),
}


@pytest.mark.parametrize("drip_flinks", list(CASES.values()), ids=list(CASES), indirect=True)
def test_a_dripping_flinks_fails_the_fetch_within_its_deadline(drip_flinks: DripHttp) -> None:
    with _client(drip_flinks) as client:
        error, took = _timed(client.fetch)
    assert isinstance(error, FlinksUnavailable)
    assert f"did not finish within the {DEADLINE:g} s deadline" in str(error)
    assert "\n" not in str(error)
    assert DEADLINE <= took < DEADLINE + MARGIN


RETRY_LATER = Reply(status=503, body=b"busy")


def test_retries_and_their_waits_stay_inside_the_deadline() -> None:
    def route(_method: str, path: str) -> Reply:
        return Reply(body=TOKEN) if path.endswith("/token") else RETRY_LATER

    with DripHttp(route) as server, _client(server) as client:
        error, took = _timed(client.fetch)
    assert isinstance(error, FlinksUnavailable)
    assert "deadline" in str(error)
    assert took < DEADLINE + MARGIN
    assert server.paths.count("/api/v1/recipients/providers/requests") >= 2  # it did retry


def test_a_wait_longer_than_the_time_left_is_not_begun() -> None:
    slow = Reply(status=503, body=b"busy")

    def route(_method: str, path: str) -> Reply:
        return Reply(body=TOKEN) if path.endswith("/token") else slow

    with DripHttp(route) as server, _client(server) as client:
        client._pause = lambda seconds: pytest.fail(f"waited {seconds} s past the deadline")
        with deadline.deadline(0.3):  # the fetch's own deadline ends no later than this one
            error, took = _timed(client.fetch)
    assert "no time left to retry" in str(error)
    assert took < 1


@pytest.fixture
def drip_head() -> Iterator[DripHttp]:
    with DripHttp(lambda _m, _p: Reply(drip="head")) as server:
        yield server


def _post(channel: SlackBotChannel | SlackWebhookChannel | EmailChannel) -> None:
    (message,) = channel.render([event()], None)
    message.send()


def test_a_dripping_slack_api_is_a_transient_failure_within_the_deadline(
    drip_head: DripHttp,
) -> None:
    bot = SlackBotChannel("xoxb-t", "#alerts", drip_head.url + "/api/", timeout=SLACK_TIMEOUT)
    error, took = _timed(lambda: _post(bot))
    assert isinstance(error, DeliveryFailure)
    assert not error.permanent
    assert str(error).startswith("Slack too slow: no complete answer within the 2 s deadline")
    assert took < 2 + MARGIN


def test_a_dripping_slack_webhook_is_a_transient_failure_within_the_deadline(
    drip_head: DripHttp,
) -> None:
    hook = SlackWebhookChannel(drip_head.url + "/services/T/B/x", timeout=SLACK_TIMEOUT)
    error, took = _timed(lambda: _post(hook))
    assert isinstance(error, DeliveryFailure)
    assert not error.permanent
    assert "Slack webhook too slow" in str(error)
    assert took < 2 + MARGIN


def test_a_dripping_smtp_server_is_a_transient_failure_within_the_deadline() -> None:
    with DripSmtp(every=0.1, limit=20) as server:
        email = EmailChannel(
            "127.0.0.1",
            server.port,
            "none",
            None,
            None,
            "fw@example.com",
            ["ops@example.com"],
            timeout=SLACK,
        )
        error, took = _timed(lambda: _post(email))
    assert isinstance(error, DeliveryFailure)
    assert not error.permanent
    assert str(error).startswith("SMTP too slow: no complete answer within the 1.5 s deadline")
    assert took < 2 * SLACK + MARGIN


def test_a_dripping_heartbeat_is_dropped_within_the_deadline(
    drip_head: DripHttp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(heartbeat_module, "PING_DEADLINE_SECONDS", DEADLINE)
    pinger = heartbeat_module.Heartbeat(drip_head.url + "/ping/secret-uuid", None)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        pinger.ping(CycleResult(outcome=Outcome.OK))
    took = time.monotonic() - started
    pinger.close()
    assert took < DEADLINE + MARGIN
    assert "heartbeat.failed ping=success error=deadline" in caplog.text
    assert "secret-uuid" not in caplog.text


@pytest.mark.parametrize(
    ("timeout", "interval", "seconds"),
    [(30, 300, 120), (30, 60, 60), (30, 1, 30), (1, 2, 2), (10, 3600, 40)],
)
def test_the_flinks_deadline_is_four_timeouts_within_the_interval(
    timeout: float, interval: float, seconds: float
) -> None:
    assert deadline.flinks_seconds(timeout, interval) == seconds


def test_the_service_builds_its_flinks_client_with_that_deadline() -> None:
    settings = load_settings(
        flinks_client_id="i",
        flinks_client_secret="s",
        flinks_timeout_seconds=5,
        poll_interval_seconds=12,
    )
    with build_flinks(settings) as client:
        assert client._deadline == 12
