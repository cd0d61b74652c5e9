"""Apprise channels (APPRISE_URLS, APPRISE_ROUTES) through the real outbox on SQLite, against a
fake receiver on 127.0.0.1 reached with Apprise's own json:// and form:// schemes."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import markdown
import pytest
import sqlalchemy as sa
from fakes.receiver import Answer, Receiver

from app.cli.sample import notify_test
from app.config.destinations import apprise_name
from app.config.settings import ConfigError, Settings, load_settings
from app.core.routing import plan_deliveries
from app.db.outbox import Outbox
from app.db.store import Store
from app.domain import CycleRecord, Event, EventKind, Outcome
from app.notify.apprise_channel import AppriseChannel
from app.notify.channel import Channel
from app.notify.deliver import DeliveryReport, deliver_pending
from app.notify.markdown_render import markdown_messages
from app.wiring import build_channels
from app.wiring.validations import problems as settings_problems
from tests.builders import FakeClock, event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET_BITS = ("s3cretpass", "tok3nabcdef")


def settings(**values: Any) -> Settings:
    return load_settings(**({"_env_file": None} | values))


def ev(client: str = "dc-a", provider: str = "NBC", **kw: Any) -> Event:
    fields = {"client_id": client, "provider_name": provider, "observed_at": T0}
    return event(**(fields | kw))


def record(engine: sa.Engine, config: Settings, events: tuple[Event, ...]) -> list[Channel]:
    channels = build_channels(config)
    plan = plan_deliveries(events, [(c.name, c.filter) for c in channels], config.alert_events)
    Store(engine).record_cycle(CycleRecord(T0, T0, Outcome.OK, 1, 0, (), events, plan, None))
    return channels


def deliver(engine: sa.Engine, channels: list[Channel], at: datetime = T0) -> DeliveryReport:
    return deliver_pending(Outbox(engine), channels, lambda: at, 3, sleep=lambda _: None)


def rows(engine: sa.Engine, channel: str) -> list[dict[str, object]]:
    return Outbox(engine).list_deliveries(channel=channel)


def test_each_url_is_a_channel_and_alerts_reach_json_and_form(engine: sa.Engine) -> None:
    with Receiver() as receiver:
        urls = f"json://{receiver.host}/json, form://{receiver.host}/form"
        config = settings(apprise_urls=urls)
        channels = record(engine, config, (ev("dc-a"), ev("dc-b", "Royal")))
        report = deliver(engine, channels)
        got = {r.path: r for r in receiver.wait_for(2)}
    assert report.sent == 4
    assert report.failed == 0
    as_json, as_form = got["/json"].json(), got["/form"].form()
    assert as_json["title"] == as_form["title"] == "flinkswatch: 2 registration changes"
    for body in (as_json["message"], as_form["message"]):
        assert "dc-a" in body
        assert "Royal" in body
        assert "PENDING\\_ACTIVATION" in body
    assert [c.name for c in channels] == [apprise_name(u.strip()) for u in urls.split(",")]
    assert all(r["status"] == "sent" for c in channels for r in rows(engine, c.name))


def test_a_500_is_a_failed_attempt_with_apprise_reason_and_no_part_of_the_url(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with Receiver() as receiver:
        url = f"json://user:{SECRET_BITS[0]}@{receiver.host}/{SECRET_BITS[1]}"
        config = settings(apprise_urls=url)
        channels = record(engine, config, (ev(),))
        receiver.then(Answer(500))
        with caplog.at_level(logging.DEBUG):
            first = deliver(engine, channels)
        (row,) = rows(engine, channels[0].name)
        second = deliver(engine, channels, T0 + timedelta(minutes=5))
    assert first.failed == 1
    assert row["status"] == "pending"
    assert row["attempts"] == 1
    error = str(row["last_error"])
    assert "json://127.0.0.1: Failed to send JSON POST notification" in error
    assert "error=500" in error
    for where in (error, caplog.text, " ".join(first.errors), channels[0].name):
        assert not any(bit in where for bit in SECRET_BITS), where
    assert second.sent == 1
    assert rows(engine, channels[0].name)[0]["status"] == "sent"


@pytest.mark.parametrize(("status", "permanent"), [(429, False), (404, True), (503, False)])
def test_refusals_a_retry_cannot_fix_need_a_person(status: int, permanent: bool) -> None:
    with Receiver() as receiver:
        channel = AppriseChannel(f"json://{receiver.host}/x", "apprise:t", timeout=5)
        receiver.then(Answer(status))
        (message,) = channel.render([ev()], None)
        with pytest.raises(Exception, match=f"error={status}") as raised:
            message.send()
    assert getattr(raised.value, "permanent", None) is permanent


def test_a_receiver_that_hangs_fails_the_send_at_the_deadline() -> None:
    with Receiver() as receiver:
        channel = AppriseChannel(f"json://{receiver.host}/x", "apprise:t", timeout=1.0)
        receiver.then(Answer(hang=True))
        (message,) = channel.render([ev()], None)
        started = time.monotonic()
        with pytest.raises(Exception, match="did not finish") as raised:
            message.send()
        took = time.monotonic() - started
    assert took < 3.0, f"the deadline of 1 s took {took:.1f} s"
    assert getattr(raised.value, "permanent", None) is False


def test_no_redirect_is_followed() -> None:
    with Receiver() as receiver:
        channel = AppriseChannel(f"json://u:p4ssword@{receiver.host}/x", "apprise:t", timeout=5)
        receiver.then(Answer(307, {"Location": receiver.url("/elsewhere")}))
        (message,) = channel.render([ev()], None)
        with pytest.raises(Exception, match="error=307"):
            message.send()
        requests = list(receiver.requests)
    assert [r.path for r in requests] == ["/x"], "the redirect was followed"


HOSTILE = ("[click](http://evil)", "# heading", "@everyone", "<@U123> **bold** `code`")


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_arrive_inert(name: str) -> None:
    with Receiver() as receiver:
        channel = AppriseChannel(f"json://{receiver.host}/x", "apprise:t", timeout=5)
        for message in channel.render([ev(client_name=name, provider_name=name)], None):
            message.send()
        (request,) = receiver.wait_for(1)
    body = request.json()["message"]
    html = markdown.markdown(body)
    assert "<a " not in html
    assert "<h1" not in html
    assert "<strong>bold" not in html
    assert "<code>" not in html
    assert "@everyone" not in body
    assert "<@U123>" not in body
    shown = body.replace("\\", "").replace("\u2060", "")
    assert name.replace("\u2060", "") in shown, "the name must still be readable"


def test_identity_is_the_url_so_pending_deliveries_survive_a_reordering(
    engine: sa.Engine,
) -> None:
    with Receiver() as receiver:
        a, b = f"json://{receiver.host}/a", f"json://{receiver.host}/b"
        record(engine, settings(apprise_urls=f"{a} {b}"), (ev(),))
        reordered = build_channels(settings(apprise_urls=f"{b}\n{a}"))
        assert [c.name for c in reordered] == [apprise_name(b), apprise_name(a)]
        report = deliver(engine, reordered)
        paths = sorted(r.path for r in receiver.wait_for(2))
    assert report.sent == 2
    assert paths == ["/a", "/b"]
    assert all(receiver.host not in c.name for c in reordered)


def test_routes_send_a_provider_to_its_own_url(engine: sa.Engine) -> None:
    with Receiver() as receiver:
        home, nbc = f"json://{receiver.host}/all", f"json://{receiver.host}/nbc"
        config = settings(apprise_urls=home, apprise_routes=f"provider=NBC:{nbc}")
        channels = record(engine, config, (ev("dc-a", "NBC"), ev("dc-b", "Royal")))
        deliver(engine, channels)
        got = {r.path: r.json()["message"] for r in receiver.wait_for(2)}
    assert "Royal" in got["/all"]
    assert "NBC" in got["/all"]
    assert "NBC" in got["/nbc"]
    assert "Royal" not in got["/nbc"]


def test_a_baseline_of_100000_is_one_message_per_channel(engine: sa.Engine) -> None:
    baseline = tuple(
        ev(f"dc-{i}", event=EventKind.BASELINE, to_status="ACTIVE" if i % 3 else "PENDING")
        for i in range(100_000)
    )
    with Receiver() as receiver:
        urls = f"json://{receiver.host}/a form://{receiver.host}/b"
        channels = record(engine, settings(apprise_urls=urls), baseline)
        report = deliver(engine, channels)
        requests = receiver.wait_for(2)
    assert report.sent == 2
    assert len(requests) == 2
    assert "Now watching 100000 registrations" in requests[0].json()["message"]


def test_a_large_poll_is_paced_and_cut_to_the_service_limits() -> None:
    discord = AppriseChannel("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "apprise:d", 5)
    assert discord.min_interval == 2.0
    native = "https://discord.com/api/webhooks/4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js"
    assert AppriseChannel(native, "apprise:n", 5).min_interval == 2.0
    assert AppriseChannel(native, "apprise:n", 5).where == "https://discord.com"
    events = [ev(f"dc-{i}", f"Provider {i}") for i in range(500)]
    messages = markdown_messages(events, None, limit=1900)
    assert all(len(m.body) <= 1900 for m in messages)
    carried = sorted(i for m in messages for i in m.event_indexes)
    assert carried == list(range(500))
    with Receiver() as receiver:
        channel = AppriseChannel(f"json://{receiver.host}/x", "apprise:j", 5)
        clock = FakeClock(T0)
        store = _one_poll_store(channel.name, events)
        deliver_pending(store, [channel], clock, 3, sleep=clock.sleep)
        sent = receiver.wait_for(len(channel.render(events, None)))
    assert channel.min_interval == 1.0
    assert clock() - T0 >= timedelta(seconds=channel.min_interval * (len(sent) - 1))


def _one_poll_store(name: str, events: list[Event]) -> Any:
    from tests.integration.test_deliver import MemoryStore

    store = MemoryStore()
    store.add(name, 1, *events)
    return store


def test_notify_test_and_check_cover_each_url_without_showing_it() -> None:
    said: list[str] = []
    with Receiver() as receiver:
        urls = (
            f"json://u:{SECRET_BITS[0]}@{receiver.host}/{SECRET_BITS[1]} form://{receiver.host}/f"
        )
        channels = build_channels(settings(apprise_urls=urls))
        failures = notify_test(channels, dry_run=False, say=said.append)
        checks = [c.check() for c in channels]
        arrived = receiver.wait_for(2)
    assert failures == 0
    assert len(arrived) == 2
    assert len([line for line in said if line.startswith("ok    apprise:")]) == 2
    assert checks[0].startswith("json://127.0.0.1 configured")
    for text in (*said, *checks):
        assert not any(bit in text for bit in SECRET_BITS), text


def test_settings_errors_never_quote_a_url() -> None:
    with pytest.raises(ConfigError) as bad:
        settings(apprise_urls=f"json://host/{SECRET_BITS[1]} not-a-url-{SECRET_BITS[0]}")
    assert "APPRISE_URLS: entry 2 is not a URL" in str(bad.value)
    problems = settings_problems(settings(apprise_urls=f"nosuch://{SECRET_BITS[1]}"), flinks=False)
    assert problems
    assert "URL 1 (nosuch://...) is not one Apprise can use" in problems[0]
    assert not any(bit in str(bad.value) + " ".join(problems) for bit in SECRET_BITS)
    config = settings(apprise_urls=f"json://u:{SECRET_BITS[0]}@h/{SECRET_BITS[1]}")
    assert any(SECRET_BITS[0] in value for value in config.secret_values())  # log redaction


def test_routes_command_explains_each_url_by_scheme_and_host_only() -> None:
    from app.cli.routes import route_lines
    from app.core.routing import Probe

    home = f"https://discord.com/api/webhooks/1/{SECRET_BITS[1]}"
    nbc = f"ntfys://ntfy.example.com/{SECRET_BITS[0]}"
    config = settings(
        apprise_urls=home,
        apprise_routes=f"provider=NBC:{nbc}",
        routes_default="unmatched",
        webhook_url="https://hooks.example.com/in",
        webhook_secret="a-webhook-shared-secret-6d1f",
    )
    lines = route_lines(config, Probe(provider="NBC"))
    assert lines[:3] == [
        f"no    {apprise_name(home)} (https://discord.com): ROUTES_DEFAULT=unmatched:"
        " an APPRISE_ROUTES rule sends it elsewhere",
        f"yes   {apprise_name(nbc)} (ntfys://ntfy.example.com): APPRISE_ROUTES rule 1",
        "yes   webhook (https://hooks.example.com): takes every alert",
    ]
    assert not any(bit in "\n".join(lines) for bit in SECRET_BITS)
    other = route_lines(config, Probe(provider="Royal"))
    assert other[0].startswith(f"yes   {apprise_name(home)} (https://discord.com): takes every")
