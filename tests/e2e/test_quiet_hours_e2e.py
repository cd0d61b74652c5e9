"""SPEC 9 quiet hours with the installed `run`, the fake Flinks and the fake Slack: a window
holds the alerts recorded in it and lets a backward move through at once; run again once that
window has ended, the service sends one catch-up message. The first window lasts half an hour, so
no slow start can outrun it; the second ends at the minute after the alerts were recorded."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World, with_channels
from tests.e2e.test_service_e2e import wait_until
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import FakeSMTP

pytestmark = pytest.mark.e2e
MINUTE = timedelta(minutes=1)


def titles(slack: FakeSlack) -> list[str]:
    return [m.blocks[0]["text"]["text"] for m in slack.received]


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_quiet_window_holds_then_catches_up_once(
    sqlite_world: World, flinks: FlinksSimulator, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    """On SQLite only: the holding is in the delivery loop, tested on both backends in
    tests/integration/test_quiet_hours.py; this one waits for a real minute to pass."""
    world = with_channels(sqlite_world, slack, smtp)
    for name in ("SLACK_WEBHOOK_URL", "SMTP_HOST"):
        world.env.pop(name)
    assert world.run("poll").returncode == 0  # the baseline, before any quiet hours
    start = datetime.now(UTC) - MINUTE
    first, second = flinks.rows
    flinks.set_rows(
        [
            {**first, "registration_status": "PENDING_ACTIVATION"},
            {**second, "registration_status": "ACTIVE"},
        ]
    )
    before = flinks.listing_requests
    quiet = f"{start:%H:%M}-{start + 30 * MINUTE:%H:%M}"  # quiet for the whole first run
    proc = world.popen("run", QUIET_HOURS=quiet, ALERT_TIMEZONE="UTC")
    try:
        # A second request means the first cycle (the held moves) is recorded.
        wait_until(lambda: flinks.listing_requests >= before + 2, timeout=30)
        recorded_by = datetime.now(UTC)
        assert titles(slack) == ["flinkswatch: baseline recorded"]  # the moves are held
        flinks.set_rows(
            [
                {**first, "registration_status": "PENDING_ACTIVATION"},
                {**second, "registration_status": "PENDING_APPROVAL"},  # backward: sent now
            ]
        )
        wait_until(lambda: len(slack.received) >= 2, timeout=30)
    finally:
        _stop(proc)
    assert titles(slack) == [
        "flinkswatch: baseline recorded",
        "flinkswatch: registration moved BACKWARD",
    ]
    # The window now ends at the first minute boundary after the held moves were recorded.
    ended = recorded_by.replace(second=0, microsecond=0) + MINUTE
    wait_until(lambda: datetime.now(UTC) >= ended, timeout=90)  # a clock, not a synchronisation
    proc = world.popen("run", QUIET_HOURS=f"{start:%H:%M}-{ended:%H:%M}", ALERT_TIMEZONE="UTC")
    try:
        wait_until(lambda: any("quiet hours" in t for t in titles(slack)), timeout=60)
    finally:
        _stop(proc)
    catch_up = [m for m in slack.received if "quiet hours" in m.blocks[0]["text"]["text"]]
    [message] = catch_up
    assert message.blocks[0]["text"]["text"] == "flinkswatch: 2 alerts held during quiet hours"
    assert "PENDING_APPROVAL -&gt; PENDING_ACTIVATION" in message.text
    assert "PENDING_APPROVAL -&gt; ACTIVE" in message.text
    assert len(slack.received) == 3  # baseline, the backward move, the one catch-up
    history = json.loads(world.run("history", "--format", "json").stdout)
    assert [e["event"] for e in history].count("status_changed") == 3  # recorded at once
