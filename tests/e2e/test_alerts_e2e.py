"""Alerting as a user drives it: notify-test (dry run and real), routes, threads, and the
`deliveries` command, through the installed `flinkswatch` against fake Slack and SMTP."""

from __future__ import annotations

import json

import pytest
from conftest import World, with_channels
from fakes.slack_server import FakeSlack
from fakes.smtp_server import FakeSMTP

from app.demo.simulator import FlinksSimulator

pytestmark = pytest.mark.e2e


def move(flinks: FlinksSimulator, provider_id: int, status: str) -> None:
    rows = flinks.rows
    for row in rows:
        if row["provider_id"] == provider_id:
            row["registration_status"] = status
    flinks.set_rows(rows)


def test_notify_test_dry_run_prints_every_channel_and_sends_nothing(
    sqlite_world: World, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    with_channels(sqlite_world, slack, smtp)
    sqlite_world.env["SLACK_ROUTES"] = "provider=NBC:#nbc-alerts"
    result = sqlite_world.run("notify-test", "--dry-run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for header in ("== slack (C0REGISTRATIONS)", "== slack:#nbc-alerts (#nbc-alerts)", "== email"):
        assert header in out
    first_payload = out.split("== slack (C0REGISTRATIONS)\n", 1)[1].split("\n== ", 1)[0]
    payload = json.loads(first_payload)
    assert payload["channel"] == "C0REGISTRATIONS"
    assert "PENDING_APPROVAL -&gt; PENDING_ACTIVATION" in payload["text"]
    assert "Subject: flinkswatch: Sample Bank (notify-test)" in out
    assert slack.requests == []
    assert smtp.messages == []
    assert slack.token not in out + result.stderr


def test_notify_test_sends_to_every_channel_and_reports_failures(
    sqlite_world: World, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    with_channels(sqlite_world, slack, smtp)
    result = sqlite_world.run("notify-test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(slack.wait_for(2)) == 2  # bot and webhook
    assert len(smtp.wait_for(1)) == 1
    bad = sqlite_world.run("notify-test", SLACK_BOT_TOKEN="xoxb-revoked")
    assert bad.returncode == 1
    assert any(
        line.startswith("FAIL") and "invalid_auth" in line for line in bad.stdout.splitlines()
    )


def test_routes_threads_and_deliveries_command(
    world: World, flinks: FlinksSimulator, slack: FakeSlack
) -> None:
    world.env.update(
        {
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_CHANNEL": "C0ALL",
            "SLACK_API_URL": slack.api_url,
            "SLACK_ROUTES": "provider=2000:#nbc",
        }
    )
    assert world.run("poll").returncode == 0  # baseline: one summary, to the default only
    move(flinks, 2000, "PENDING_ACTIVATION")
    assert world.run("poll").returncode == 0
    move(flinks, 2000, "ACTIVE")
    assert world.run("poll").returncode == 0
    got = slack.wait_for(5)
    by_channel = [(m.channel, "thread_ts" in m.payload) for m in got]
    assert by_channel[0] == ("C0ALL", False)  # the baseline summary
    assert sorted(by_channel[1:3]) == [("#nbc", False), ("C0ALL", False)]  # thread roots
    assert sorted(by_channel[3:]) == [("#nbc", True), ("C0ALL", True)]  # replies

    listed = world.run("deliveries", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {(r["channel"], r["status"]) for r in rows} == {
        ("slack", "sent"),
        ("slack:#nbc", "sent"),
    }
    assert len(rows) == 5
    table = world.run("deliveries", "--channel", "slack:#nbc", "--status", "sent")
    assert table.stdout.splitlines()[0].split()[:4] == ["ID", "CREATED_AT", "CHANNEL", "STATUS"]
    assert len(table.stdout.splitlines()) == 3
    csv_out = world.run("deliveries", "--status", "failed", "--format", "csv").stdout
    assert csv_out.splitlines() == [  # the header only: written out, as a reader sees it
        "id,created_at,channel,status,attempts,next_attempt_at,kind,event,client_id,"
        "provider_name,to_status,last_error"
    ]
