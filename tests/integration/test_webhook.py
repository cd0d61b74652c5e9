"""The signed webhook (WEBHOOK_URL, WEBHOOK_SECRET) through the real outbox, against a receiver on
127.0.0.1 that verifies every request with the `standardwebhooks` package (not our code)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fakes.receiver import Answer, Receiver
from standardwebhooks import Webhook

from app.config.settings import ConfigError, Settings, load_settings
from app.core.routing import plan_deliveries
from app.db.outbox import Outbox
from app.db.store import Store
from app.delivery import DeliveryFailure
from app.domain import CycleRecord, Event, EventKind, NoticeKind, Outcome, WatcherNotice
from app.notify.channel import Channel
from app.notify.deliver import DeliveryReport, deliver_pending
from app.notify.webhook import WebhookChannel
from app.wiring import build_channels
from tests.builders import event

T0 = datetime.now(UTC).replace(microsecond=0)  # receivers reject stale timestamps
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def settings(**values: Any) -> Settings:
    return load_settings(**({"_env_file": None, "webhook_secret": SECRET} | values))


def ev(client: str = "dc-a", **kw: Any) -> Event:
    return event(**({"client_id": client, "observed_at": T0} | kw))


def record(engine: sa.Engine, config: Settings, events: tuple[Event, ...]) -> list[Channel]:
    channels = build_channels(config)
    plan = plan_deliveries(events, [(c.name, c.filter) for c in channels], config.alert_events)
    Store(engine).record_cycle(CycleRecord(T0, T0, Outcome.OK, 1, 0, (), events, plan, None))
    return channels


def deliver(engine: sa.Engine, channels: list[Channel], at: datetime = T0) -> DeliveryReport:
    return deliver_pending(Outbox(engine), channels, lambda: at, 3, sleep=lambda _: None)


def verifier(secret: str = SECRET) -> Any:
    hook = Webhook(secret)
    return lambda body, headers: hook.verify(body, headers)


def test_one_signed_post_per_event_with_the_history_fields(engine: sa.Engine) -> None:
    with Receiver(verify=verifier()) as receiver:
        channels = record(engine, settings(webhook_url=receiver.url()), (ev("dc-a"), ev("dc-b")))
        report = deliver(engine, channels)
        got = receiver.wait_for(2)
    assert report.sent == 2
    assert receiver.verify_errors == []
    assert all(r.accepted for r in got)
    bodies = [r.json() for r in got]
    assert [b["type"] for b in bodies] == ["registration.status_changed"] * 2
    assert [b["data"]["client_id"] for b in bodies] == ["dc-a", "dc-b"]
    data = bodies[0]["data"]
    assert data["from_status"] == "PENDING_APPROVAL"
    assert data["to_status"] == "PENDING_ACTIVATION"
    assert data["provider_id"] == 12
    assert bodies[0]["timestamp"] == T0.isoformat().replace("+00:00", "Z")
    assert len({r.headers["webhook-id"] for r in got}) == 2


def test_a_500_is_retried_with_the_same_webhook_id(engine: sa.Engine) -> None:
    with Receiver(verify=verifier()) as receiver:
        channels = record(engine, settings(webhook_url=receiver.url()), (ev(),))
        receiver.then(Answer(500))
        first = deliver(engine, channels)
        (row,) = Outbox(engine).list_deliveries(channel="webhook")
        second = deliver(engine, channels, T0 + timedelta(seconds=1))
        failed, retried = receiver.wait_for(2)
    assert first.failed == 1
    assert row["last_error"] == "webhook http://127.0.0.1 answered HTTP 500"
    assert second.sent == 1
    assert not failed.accepted
    assert retried.accepted
    assert receiver.verify_errors == []
    assert failed.headers["webhook-id"] == retried.headers["webhook-id"]
    assert failed.body == retried.body
    assert (
        Outbox(engine).list_deliveries(channel="webhook")[0]["external_ref"]
        == (retried.headers["webhook-id"])
    )


@pytest.mark.parametrize(
    ("answer", "permanent", "retry_after"),
    [
        (Answer(410), True, None),
        (Answer(400), True, None),
        (Answer(401), True, None),
        (Answer(408), False, None),
        (Answer(429, {"Retry-After": "120"}), False, 120.0),
        (Answer(503, {"Retry-After": "30"}), False, 30.0),
        (Answer(500), False, None),
    ],
)
def test_status_codes_are_classified(
    answer: Answer, permanent: bool, retry_after: float | None
) -> None:
    with Receiver() as receiver:
        channel = WebhookChannel(receiver.url(), SECRET, timeout=5)
        receiver.then(answer)
        (message,) = channel.render([ev()], None)
        with pytest.raises(DeliveryFailure) as raised:
            message.send()
    assert raised.value.permanent is permanent
    assert raised.value.retry_after == retry_after
    assert f"HTTP {answer.status}" in str(raised.value)


def test_retry_after_holds_the_delivery_in_the_outbox(engine: sa.Engine) -> None:
    with Receiver() as receiver:
        channels = record(engine, settings(webhook_url=receiver.url()), (ev(),))
        receiver.then(Answer(429, {"Retry-After": "120"}))
        deliver(engine, channels)
        early = deliver(engine, channels, T0 + timedelta(seconds=60))
        late = deliver(engine, channels, T0 + timedelta(seconds=121))
    assert early.sent == 0
    assert late.sent == 1
    assert len(receiver.requests) == 2


def test_no_redirect_is_followed() -> None:
    with Receiver() as receiver:
        channel = WebhookChannel(receiver.url("/hook"), SECRET, timeout=5)
        receiver.then(Answer(308, {"Location": receiver.url("/elsewhere")}))
        (message,) = channel.render([ev()], None)
        with pytest.raises(DeliveryFailure, match="not followed") as raised:
            message.send()
    assert [r.path for r in receiver.requests] == ["/hook"]
    assert raised.value.permanent is False


def test_a_receiver_that_hangs_fails_the_send_at_the_deadline() -> None:
    with Receiver() as receiver:
        channel = WebhookChannel(receiver.url(), SECRET, timeout=1.0)
        receiver.then(Answer(hang=True))
        (message,) = channel.render([ev()], None)
        started = time.monotonic()
        with pytest.raises(DeliveryFailure, match="no answer within 1 s"):
            message.send()
        took = time.monotonic() - started
    assert took < 2.0, f"the deadline of 1 s took {took:.1f} s"


def test_the_baseline_is_one_message_with_the_counts(engine: sa.Engine) -> None:
    baseline = tuple(
        ev(f"dc-{i}", event=EventKind.BASELINE, to_status="ACTIVE" if i % 4 else "PENDING")
        for i in range(10_000)
    )
    with Receiver(verify=verifier()) as receiver:
        channels = record(engine, settings(webhook_url=receiver.url()), baseline)
        report = deliver(engine, channels)
        (request,) = receiver.wait_for(1)
    assert report.sent == 1
    body = request.json()
    assert body["type"] == "watcher.baseline"
    assert body["data"]["total"] == 10_000
    assert body["data"]["by_status"] == {"ACTIVE": 7_500, "PENDING": 2_500}


def test_a_plain_secret_keys_the_signature_with_its_own_bytes() -> None:
    plain = "a-plain-shared-secret-of-32-chars"
    with Receiver(verify=lambda b, h: Webhook(plain.encode()).verify(b, h)) as receiver:
        channel = WebhookChannel(receiver.url(), plain, timeout=5)
        notice = WatcherNotice(1, T0, 0, (), kind=NoticeKind.WATCHER_BLIND, cause="flinks_auth")
        for message in channel.render([], notice):
            message.send()
        (request,) = receiver.wait_for(1)
    assert receiver.verify_errors == []
    assert request.json()["type"] == "watcher.blind"
    assert request.json()["data"]["cause"] == "flinks_auth"


def test_the_url_and_secret_are_settings_secrets_and_checked() -> None:
    url = "https://hooks.example.com/in/T0K3N-in-path"
    config = settings(webhook_url=url)
    assert {url, SECRET} <= set(config.secret_values())
    (channel,) = build_channels(config)
    assert channel.check().startswith("https://hooks.example.com configured, signed")
    assert "T0K3N" not in channel.check()
    with pytest.raises(ConfigError, match=r"WEBHOOK_SECRET: .*16 bytes") as short:
        settings(webhook_url=url, webhook_secret="whsec_c2hvcnQ=")
    assert "c2hvcnQ" not in str(short.value)
    alone = load_settings(_env_file=None, webhook_url=url)
    assert alone.incomplete_channels() == [
        "signed webhook needs both WEBHOOK_URL and WEBHOOK_SECRET"
    ]
    assert json.dumps(build_channels(alone)[0].name) == '"console"'
