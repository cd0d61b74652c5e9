"""SPEC 8 as a cron user meets it: `flinkswatch poll` processes against the fake Flinks, Slack and
SMTP. Rejected credentials make the watcher say once that it is blind and once that it sees
again; a Slack that refuses the token is announced by email, and `check` fails for it."""

from __future__ import annotations

import json

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World, with_channels
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import FakeSMTP

pytestmark = pytest.mark.e2e


def titles(slack: FakeSlack) -> list[str]:
    return [m.blocks[0]["text"]["text"] for m in slack.received if m.via == "api"]


def subjects(smtp: FakeSMTP) -> list[str]:
    return [str(mail.message["Subject"]) for mail in smtp.messages]


def test_five_rejected_polls_then_a_good_one_tell_each_channel_once(
    world: World, flinks: FlinksSimulator, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    world = with_channels(world, slack, smtp)
    world.env.pop("SLACK_WEBHOOK_URL")  # one Slack channel: the bot
    assert world.run("poll").returncode == 0  # baseline
    flinks.fail_next(5, 401, b'{"error": "invalid_client"}', path="token")
    codes = [world.run("poll").returncode for _ in range(5)]
    flinks.set_rows([*flinks.rows[:1], {**flinks.rows[1], "registration_status": "ACTIVE"}])
    back = world.run("poll")

    assert codes == [1] * 5
    assert back.returncode == 0, back.stderr
    assert titles(slack) == [
        "flinkswatch: baseline recorded",
        "flinkswatch is blind: credentials rejected",
        "flinkswatch can see again",
        "flinkswatch: registration moved forward",
    ]
    assert subjects(smtp)[:3] == [
        "flinkswatch: now watching 2 registrations",
        "flinkswatch is blind: credentials rejected",
        "flinkswatch can see again",
    ]
    assert "rotate FLINKS_CLIENT_SECRET" in slack.received[1].text
    assert "3 failed polls in a row" in slack.received[1].text
    assert "found 1 change" in slack.received[2].text
    history = json.loads(world.run("history", "--format", "json").stdout)
    assert [e["event"] for e in history][-1] == "status_changed"  # the history is unchanged


def test_a_slack_refusing_the_token_is_announced_by_email_and_fails_check(
    world: World, flinks: FlinksSimulator, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    world = with_channels(world, slack, smtp)
    world.env.pop("SLACK_WEBHOOK_URL")
    slack.api_error("invalid_auth")
    first = world.run("poll")
    mails = smtp.wait_for(2)
    check = world.run("check")

    assert first.returncode == 3, first.stderr  # recorded, but a delivery failed
    assert [str(m.message["Subject"]) for m in mails] == [
        "flinkswatch: now watching 2 registrations",
        "flinkswatch: Slack delivery failing",
    ]
    body = mails[1].message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "invalid_auth" in text
    assert "1 alert wait" in text
    assert check.returncode == 1, check.stdout
    assert "FAIL  slack deliveries: failing since" in check.stdout
    assert "xoxb-" not in check.stdout + check.stderr + first.stderr

    # Slack works again: the baseline it owed goes out, and email hears it recovered, once.
    again = world.run("poll")
    assert again.returncode == 0, again.stderr
    assert titles(slack) == ["flinkswatch: baseline recorded"]
    assert subjects(smtp)[2:] == ["flinkswatch: Slack delivery works again"], again.stderr
    assert world.run("check").returncode == 0


def test_run_names_a_failing_channel_in_healthz_and_the_gauge(
    world: World, flinks: FlinksSimulator, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    import urllib.request

    from tests.e2e.test_service_e2e import wait_until
    from tests.fakes.smtp_server import free_port

    world = with_channels(world, slack, smtp)
    world.env.pop("SLACK_WEBHOOK_URL")
    for _ in range(50):
        slack.api_error("invalid_auth")
    port = free_port()
    proc = world.popen("run", HTTP_PORT=str(port))

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                return int(r.status), r.read().decode()
        except OSError:
            return 0, ""

    try:
        wait_until(lambda: "failing_channels" in get("/healthz")[1])
        status, body = get("/healthz")
        metrics = get("/metrics")[1]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert status == 200  # polling works: no restart because Slack is down
    [failing] = json.loads(body)["failing_channels"]
    assert failing["channel"] == "slack"
    assert failing["since"]
    assert "last_error" not in failing  # /healthz is open: no upstream text (logs, `check`)
    assert 'flinkswatch_channel_failing{channel="slack"} 1.0' in metrics
    assert 'flinkswatch_channel_failing{channel="email"} 0.0' in metrics
