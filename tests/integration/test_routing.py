"""Routing: SLACK_ROUTES / EMAIL_ROUTES parsed, turned into channel instances, and into delivery
rows per (event, channel instance) on real SQLite and PostgreSQL; ALERT_EVENTS chooses kinds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fakes.slack_server import FakeSlack

from app.config.settings import ConfigError, Settings, load_settings
from app.core.routing import destinations, instance_name, parse_routes, plan_deliveries
from app.db.outbox import Outbox
from app.db.store import Store
from app.domain import ALERTED_BY_DEFAULT, CycleRecord, Event, EventKind, Outcome
from app.notify.deliver import deliver_pending
from app.notify.slack import SlackBotChannel
from app.wiring import build_channels
from tests.builders import event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOKEN = "xoxb-routing"
ROUTES = "provider=NBC:#nbc; country=US & client=Alpha Lending:#us-alpha; provider=7:#nbc"


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {"_env_file": None, "slack_bot_token": TOKEN, "slack_channel": "#all"}
    return load_settings(**(base | values))


def ev(client: str, provider_id: int, provider: str, country: str = "CA", **kw: Any) -> Event:
    return event(
        client_id=client,
        client_name="Alpha Lending" if client == "dc-a" else "Beta Credit",
        provider_id=provider_id,
        provider_name=provider,
        country=country,
        requested_on=T0,
        observed_at=T0,
        **kw,
    )


EVENTS = (
    ev("dc-a", 12, "NBC"),  # -> #nbc (by name)
    ev("dc-b", 7, "Royal"),  # -> #nbc (by id)
    ev("dc-a", 3, "Chase", country="US"),  # -> #us-alpha (country and client name)
    ev("dc-b", 4, "Wells", country="US"),  # client does not match: default only
    ev("dc-a", 12, "NBC", event=EventKind.DETAILS_CHANGED),  # not alerted by default
)


# ---- parsing ------------------------------------------------------------------------------
def test_rules_parse_with_spaces_case_and_several_conditions() -> None:
    rules = parse_routes(" Provider = NBC : #nbc ;\ncountry=us&client=Alpha Lending:#us ", "slack")
    assert [r.destination for r in rules] == ["#nbc", "#us"]
    assert [(c.field, c.value) for c in rules[1].conditions] == [
        ("country", "us"),
        ("client", "alpha lending"),
    ]
    assert parse_routes("", "slack") == ()
    (mail,) = parse_routes("provider=NBC: a@x.example , b@x.example", "email")
    assert mail.destination == "a@x.example,b@x.example"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("slack_routes", "provider=NBC", "SLACK_ROUTES: rule 1 'provider=NBC' needs ':'"),
        ("slack_routes", "bank=NBC:#x", "SLACK_ROUTES: rule 1: unknown field 'bank'"),
        ("slack_routes", "provider=:#x", "SLACK_ROUTES: rule 1: 'provider=' is not field=value"),
        ("slack_routes", "country=CA:#a b", "SLACK_ROUTES: rule 1: '#a b' is not a Slack channel"),
        ("email_routes", "country=CA:ops", "EMAIL_ROUTES: rule 1: ops is not an email address"),
        ("alert_events", "added,moved", "ALERT_EVENTS: unknown event kind 'moved'"),
        ("alert_events", "baseline", "ALERT_EVENTS: unknown event kind 'baseline'"),
        ("routes_default", "some", "ROUTES_DEFAULT: Input should be 'all' or 'unmatched'"),
    ],
)
def test_bad_settings_fail_at_start_with_one_line_naming_them(
    name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**{name: value})
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_alert_events_default_is_spec_and_can_add_details_changed() -> None:
    assert settings().alert_events == ALERTED_BY_DEFAULT
    chosen = settings(alert_events="added, details_changed").alert_events
    assert chosen == {EventKind.ADDED, EventKind.DETAILS_CHANGED}


def test_routes_need_their_channel() -> None:
    with pytest.raises(ConfigError, match="SLACK_ROUTES: needs SLACK_BOT_TOKEN"):
        build_channels(load_settings(_env_file=None, slack_routes="provider=NBC:#nbc"))
    with pytest.raises(ConfigError, match="EMAIL_ROUTES: needs SMTP_HOST"):
        build_channels(settings(email_routes="provider=NBC:nbc@x.example"))


def test_instances_are_named_by_destination_and_fit_the_column() -> None:
    found = destinations("slack", "#all", parse_routes(ROUTES, "slack"), unmatched_only=False)
    assert [(d.name, d.target) for d in found] == [
        ("slack", "#all"),
        ("slack:#nbc", "#nbc"),
        ("slack:#us-alpha", "#us-alpha"),
    ]
    long = instance_name("email", "someone.with.a.long.name@example.com")
    assert len(long) == 32
    assert long.startswith("email:someone.with.a.lo~")
    assert long[-8:] == instance_name("email", "Someone.With.A.Long.Name@Example.com")[-8:]
    # A route to the default destination is folded into it, never posted twice.
    same = destinations("slack", "#all", parse_routes("provider=NBC:#ALL", "slack"), True)
    assert [d.name for d in same] == ["slack"]


def test_build_channels_makes_one_bot_channel_per_destination() -> None:
    channels = build_channels(settings(slack_routes=ROUTES))
    assert [(c.name, getattr(c, "channel", None)) for c in channels] == [
        ("slack", "#all"),
        ("slack:#nbc", "#nbc"),
        ("slack:#us-alpha", "#us-alpha"),
    ]


# ---- delivery rows ----------------------------------------------------------------------------
def record(engine: sa.Engine, config: Settings, events: tuple[Event, ...] = EVENTS) -> None:
    routes = [(c.name, c.filter) for c in build_channels(config)]
    plan = plan_deliveries(events, routes, config.alert_events)
    record = CycleRecord(T0, T0, Outcome.OK, len(events), 0, (), events, plan, None)
    Store(engine).record_cycle(record)


def owed(engine: sa.Engine, channel: str) -> list[tuple[str, int]]:
    pending = Outbox(engine).pending_deliveries(channel, T0)
    return [(p.event.client_id, p.event.provider_id) for p in pending if p.event is not None]


def test_each_event_goes_to_the_default_and_to_every_route_it_matches(engine: sa.Engine) -> None:
    record(engine, settings(slack_routes=ROUTES))
    assert owed(engine, "slack") == [("dc-a", 12), ("dc-b", 7), ("dc-a", 3), ("dc-b", 4)]
    assert owed(engine, "slack:#nbc") == [("dc-a", 12), ("dc-b", 7)]
    assert owed(engine, "slack:#us-alpha") == [("dc-a", 3)]


def test_unmatched_default_gets_only_what_no_route_took(engine: sa.Engine) -> None:
    record(engine, settings(slack_routes=ROUTES, routes_default="unmatched"))
    assert owed(engine, "slack") == [("dc-b", 4)]
    assert owed(engine, "slack:#nbc") == [("dc-a", 12), ("dc-b", 7)]


def test_alert_events_choose_the_kinds_that_get_rows(engine: sa.Engine) -> None:
    record(engine, settings(slack_routes=ROUTES, alert_events="details_changed"))
    assert owed(engine, "slack") == [("dc-a", 12)]
    assert owed(engine, "slack:#nbc") == [("dc-a", 12)]
    assert owed(engine, "slack:#us-alpha") == []


def test_baseline_summary_goes_to_default_channels_only(engine: sa.Engine) -> None:
    baseline = tuple(
        ev(e.client_id, e.provider_id, e.provider_name, e.country, event=EventKind.BASELINE)
        for e in EVENTS[:4]
    )
    record(engine, settings(slack_routes=ROUTES), baseline)
    summaries = {
        ch: [p.summary.total for p in Outbox(engine).pending_deliveries(ch, T0) if p.summary]
        for ch in ("slack", "slack:#nbc", "slack:#us-alpha")
    }
    assert summaries == {"slack": [4], "slack:#nbc": [], "slack:#us-alpha": []}


def test_routed_alerts_reach_their_slack_channels(engine: sa.Engine) -> None:
    with FakeSlack(token=TOKEN) as slack:
        config = settings(slack_routes=ROUTES, slack_api_url=slack.api_url)
        record(engine, config)
        channels = build_channels(config)
        assert all(isinstance(c, SlackBotChannel) for c in channels)
        report = deliver_pending(Outbox(engine), channels, lambda: T0, 3, sleep=lambda _: None)
        got = slack.wait_for(3)
    assert report.sent == 4 + 2 + 1
    by_channel = {m.channel: m.text for m in got}
    assert set(by_channel) == {"#all", "#nbc", "#us-alpha"}
    assert "Wells" in by_channel["#all"]
    assert "Wells" not in by_channel["#nbc"]
    assert "Chase" in by_channel["#us-alpha"]


def test_digests_go_to_the_instances_taking_everything_only(tmp_path: Path) -> None:
    """Like the baseline summary: a routed per-provider channel gets no digest of everything."""
    from app.db import engine as db
    from app.db.leader import AlwaysLeader
    from app.wiring.service import build_digests

    config = settings(slack_routes=ROUTES, digest_schedule="0 9 * * MON")
    engine = db.make_engine(f"sqlite:///{tmp_path / 'fw.db'}")
    try:
        watch = build_digests(config, engine, build_channels(config), AlwaysLeader())
    finally:
        engine.dispose()
    assert watch.channels == ["slack"]
    assert watch.trigger is not None
