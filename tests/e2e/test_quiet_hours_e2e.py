"""SPEC 9 quiet hours with the installed `run`, the fake Flinks and the fake Slack: a window
that ends within a minute of the start holds the alerts recorded in it, lets a backward move
through at once, and sends one catch-up message when it ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World, with_channels
from tests.e2e.test_service_e2e import wait_until
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import FakeSMTP

pytestmark = pytest.mark.e2e


def window_ending_soon() -> tuple[str, datetime]:
    """A UTC window from a minute ago to the next minute boundary at least 20 s away."""
    now = datetime.now(UTC)
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if end - now < timedelta(seconds=20):
        end += timedelta(minutes=1)
    start = now - timedelta(minutes=1)
    return f"{start:%H:%M}-{end:%H:%M}", end


def titles(slack: FakeSlack) -> list[str]:
    return [m.blocks[0]["text"]["text"] for m in slack.received]


def test_quiet_window_holds_then_catches_up_once(
    sqlite_world: World, flinks: FlinksSimulator, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    """On SQLite only: the holding is in the delivery loop, tested on both backends in
    tests/integration/test_quiet_hours.py; this one waits for a real minute to pass."""
    world = with_channels(sqlite_world, slack, smtp)
    for name in ("SLACK_WEBHOOK_URL", "SMTP_HOST"):
        world.env.pop(name)
    assert world.run("poll").returncode == 0  # the baseline, before any quiet hours
    window, ends = window_ending_soon()
    first, second = flinks.rows
    flinks.set_rows(
        [
            {**first, "registration_status": "PENDING_ACTIVATION"},
            {**second, "registration_status": "ACTIVE"},
        ]
    )
    before = flinks.listing_requests
    proc = world.popen("run", QUIET_HOURS=window, ALERT_TIMEZONE="UTC")
    try:
        # A second request means the first cycle (the held moves) is recorded.
        wait_until(lambda: flinks.listing_requests >= before + 2, timeout=30)
        assert datetime.now(UTC) < ends
        assert len(slack.received) == 1  # still quiet: nothing more was sent
        flinks.set_rows(
            [
                {**first, "registration_status": "PENDING_ACTIVATION"},
                {**second, "registration_status": "PENDING_APPROVAL"},  # backward: sent now
            ]
        )
        wait_until(lambda: len(slack.received) >= 2, timeout=30)
        quiet_titles = titles(slack)
        sent_while_quiet = datetime.now(UTC) < ends
        wait_until(lambda: any("quiet hours" in t for t in titles(slack)), timeout=90)
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert quiet_titles == [
        "flinkswatch: baseline recorded",
        "flinkswatch: registration moved BACKWARD",
    ]
    assert sent_while_quiet
    catch_up = [m for m in slack.received if "quiet hours" in m.blocks[0]["text"]["text"]]
    [message] = catch_up
    assert message.blocks[0]["text"]["text"] == "flinkswatch: 2 alerts held during quiet hours"
    assert "PENDING_APPROVAL -&gt; PENDING_ACTIVATION" in message.text
    assert "PENDING_APPROVAL -&gt; ACTIVE" in message.text
    history = json.loads(world.run("history", "--format", "json").stdout)
    assert [e["event"] for e in history].count("status_changed") == 3  # recorded at once
