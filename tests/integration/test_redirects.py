"""No credential follows a redirect to another host: a fake Slack (Web API and webhook), a
heartbeat service and a fake Flinks answer 3xx to a second server on 127.0.0.1 that records
whatever reaches it; it must receive nothing, and the delivery or ping fails with one line."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from app.delivery import DeliveryFailure
from app.domain import CycleResult, Outcome
from app.flinks.client import FlinksClient, FlinksError
from app.notify.heartbeat import Heartbeat
from app.notify.same_origin import same_origin
from app.notify.slack import SlackBotChannel, SlackWebhookChannel
from tests.builders import event
from tests.fakes.recorder import EchoingFlinks, Recorder, answer, redirect
from tests.fakes.slack_server import FakeSlack, Scripted

TOKEN = "xoxb-redirect-secret-token"
REDIRECTS = (301, 302, 303, 307, 308)


@pytest.fixture
def other() -> Iterator[Recorder]:
    """The other host: anything reaching it is a leak."""
    with Recorder() as recorder:
        yield recorder


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN) as fake:
        yield fake


def _to_other(slack: FakeSlack, other: Recorder, status: int, path: str) -> None:
    slack.enqueue(Scripted(status, "", {"Location": other.url + path}))


@pytest.mark.parametrize("status", REDIRECTS)
def test_the_bot_token_never_follows_a_redirect_elsewhere(
    slack: FakeSlack, other: Recorder, status: int
) -> None:
    _to_other(slack, other, status, "/api/chat.postMessage")
    bot = SlackBotChannel(token=TOKEN, channel="#alerts", api_url=slack.api_url, timeout=5)
    (message,) = bot.render([event()], None)
    with pytest.raises(DeliveryFailure) as caught:
        message.send()
    assert other.received() == []
    assert TOKEN not in str(caught.value)
    assert "\n" not in str(caught.value)
    if status in (301, 302, 303):  # the ones urllib would follow for a POST
        assert str(caught.value) == (
            f"Slack chat.postMessage failed: redirected (HTTP {status}) to another host,"
            f" http://127.0.0.1:{other.url.rsplit(':', 1)[1]}: not followed, credentials go"
            " only to the configured host"
        )
        assert caught.value.permanent


def test_auth_test_of_check_is_refused_too(slack: FakeSlack, other: Recorder) -> None:
    _to_other(slack, other, 302, "/api/auth.test")
    bot = SlackBotChannel(token=TOKEN, channel="#alerts", api_url=slack.api_url, timeout=5)
    with pytest.raises(DeliveryFailure, match="redirected"):
        bot.check()
    assert other.received() == []


@pytest.mark.parametrize("status", REDIRECTS)
def test_the_webhook_never_follows_a_redirect_elsewhere(
    slack: FakeSlack, other: Recorder, status: int
) -> None:
    _to_other(slack, other, status, "/webhook/T000/B000/s3cr3tWebhookPart")
    (message,) = SlackWebhookChannel(slack.webhook_url, timeout=5).render([event()], None)
    with pytest.raises(DeliveryFailure) as caught:
        message.send()
    assert other.received() == []
    assert "s3cr3tWebhookPart" not in str(caught.value)


def test_a_heartbeat_redirected_elsewhere_is_not_followed(
    other: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    secret_path = "/ping/5f1b0e2c-secret"
    with Recorder({secret_path: redirect(other.url + secret_path)}) as service:
        beat = Heartbeat(service.url + secret_path, None)
        with caplog.at_level(logging.WARNING, "app.notify.heartbeat"):
            beat.ping(CycleResult(outcome=Outcome.OK))
        beat.close()
    assert [r.path for r in service.received()] == [secret_path]
    assert other.received() == []
    (line,) = [r.getMessage() for r in caplog.records]
    assert "heartbeat.failed ping=success" in line
    assert "redirected (HTTP 302) to another host" in line
    assert "5f1b0e2c" not in line


def test_a_heartbeat_redirected_within_its_host_is_followed() -> None:
    with Recorder({"/ping/a": redirect("/ping/b")}) as service:
        beat = Heartbeat(service.url + "/ping/a", None)
        beat.ping(CycleResult(outcome=Outcome.OK))
        beat.close()
    assert [r.path for r in service.received()] == ["/ping/a", "/ping/b"]


@pytest.mark.parametrize("which", ["token", "listing"])
def test_flinks_credentials_never_follow_a_redirect(other: Recorder, which: str) -> None:
    token_path, listing_path = EchoingFlinks.TOKEN_PATH, EchoingFlinks.LISTING_PATH
    token = answer(200, {"access_token": "tok-19", "expires_in": 299})
    routes = {
        token_path: redirect(other.url + token_path) if which == "token" else token,
        listing_path: redirect(other.url + listing_path),
    }
    with Recorder(routes) as flinks:
        client = FlinksClient(
            flinks.url + listing_path, flinks.url + token_path, "id-1", "secret-value-1"
        )
        with client, pytest.raises(FlinksError) as caught:
            client.fetch()
    assert other.received() == []
    assert "HTTP 302 (a redirect to http://127.0.0.1:" in str(caught.value)
    assert "not followed" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "target", "same"),
    [
        ("https://slack.com/api/", "https://slack.com/api/x", True),
        ("http://hc.example/p", "https://hc.example/p", True),  # the https upgrade
        ("https://hc.example/p", "http://hc.example/p", False),  # never a downgrade
        ("https://slack.com/api/", "https://slack.com:8443/api/", False),
        ("https://slack.com/api/", "https://evil.example/api/", False),
        ("https://slack.com/api/", "https://slack.com.evil.example/", False),
    ],
)
def test_same_origin(url: str, target: str, same: bool) -> None:
    assert same_origin(url, target) is same
