"""The installed command as a user runs it: poll, alerts on Slack and email, history, exit codes."""

from __future__ import annotations

import json
import os
import socket

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World, with_channels
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import FakeSMTP

pytestmark = pytest.mark.e2e

SECRETS = ("partner-secret-value", "xoxb-e2e-secret-token", "smtp-secret-password")


def move(flinks: FlinksSimulator, provider_id: int, status: str) -> None:
    rows = flinks.rows
    for row in rows:
        if row["provider_id"] == provider_id:
            row["registration_status"] = status
    flinks.set_rows(rows)


def test_one_move_gives_one_slack_message_one_email_one_history_row(
    world: World, flinks: FlinksSimulator, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    with_channels(world, slack, smtp)

    def slack_texts(via: str) -> list[str]:
        return [m.text for m in slack.received if m.via == via]

    first = world.run("poll")
    assert first.returncode == 0, first.stderr
    # The first sync is a baseline: one summary per channel, no per-registration alert.
    slack.wait_for(2)
    for via in ("api", "webhook"):
        (summary,) = slack_texts(via)
        assert "2 registrations" in summary
    (summary_mail,) = smtp.wait_for(1)
    assert sorted(summary_mail.rcpt_tos) == ["integration@example.com", "ops@example.com"]

    move(flinks, 2000, "PENDING_ACTIVATION")
    second = world.run("poll")
    assert second.returncode == 0, second.stderr
    slack.wait_for(4)
    for via in ("api", "webhook"):
        texts = slack_texts(via)
        assert len(texts) == 2
        for fact in ("NBC", "Alpha Lending", "PENDING_APPROVAL -&gt; PENDING_ACTIVATION"):
            assert fact in texts[1]
    mails = smtp.wait_for(2)
    assert len(mails) == 2
    assert "NBC" in mails[1].message["Subject"]

    history = world.run("history", "--format", "json", "--event", "status_changed")
    assert history.returncode == 0, history.stderr
    (event,) = json.loads(history.stdout)
    assert (event["provider_id"], event["from_status"], event["to_status"]) == (
        2000,
        "PENDING_APPROVAL",
        "PENDING_ACTIVATION",
    )
    assert event["client_name"] == "Alpha Lending"
    assert event["observed_at"].endswith("Z")
    assert event["requested_on"] == "2024-02-29T14:24:42.605568Z"

    third = world.run("poll")
    assert third.returncode == 0, third.stderr
    assert len(slack.received) == 4  # nothing new, nothing sent
    assert len(smtp.messages) == 2

    everything = first.stderr + second.stderr + third.stderr + history.stderr
    assert not any(secret in everything for secret in (*SECRETS, slack.webhook_url))


def test_a_failed_delivery_is_counted_and_poll_exits_3(
    world: World, flinks: FlinksSimulator, slack: FakeSlack
) -> None:
    """Issue 14: an unknown Slack error was retried for ever while `poll` said all was well."""
    world.env.update(
        {
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_CHANNEL": "C0REGISTRATIONS",
            "SLACK_API_URL": slack.api_url,
            "DELIVERY_MAX_ATTEMPTS": "1",
        }
    )

    def deliveries() -> list[tuple[str, int]]:
        listed = world.run("deliveries", "--format", "json")
        assert listed.returncode == 0, listed.stderr
        return [(d["status"], d["attempts"]) for d in json.loads(listed.stdout)]

    slack.api_error("some_new_error")  # the baseline summary: refused for a reason we don't know
    first = world.run("poll")
    assert first.returncode == 3, first.stderr
    assert "delivery_failures=1" in first.stderr
    last = first.stderr.strip().splitlines()[-1]
    assert last.startswith("flinkswatch: poll recorded, but 1 delivery failed"), last
    assert "some_new_error" in first.stderr
    assert deliveries() == [("failed", 1)]  # given up at once: a person must look

    move(flinks, 2000, "PENDING_ACTIVATION")
    slack.http_error(503)  # transient: reported, kept for the next cycle
    second = world.run("poll")
    assert second.returncode == 3, second.stderr
    assert "delivery_failures=1" in second.stderr
    assert deliveries() == [("pending", 1), ("failed", 1)]

    third = world.run("poll")
    assert third.returncode == 0, third.stderr
    assert "delivery_failures=0" in third.stderr
    assert deliveries() == [("sent", 1), ("failed", 1)]
    (alert,) = slack.wait_for(1)
    assert "PENDING_APPROVAL -&gt; PENDING_ACTIVATION" in alert.text


def test_status_lists_current_registrations(world: World, flinks: FlinksSimulator) -> None:
    assert world.run("poll").returncode == 0
    move(flinks, 1000, "ACTIVE")
    assert world.run("poll").returncode == 0
    status = world.run("status", "--format", "json")
    assert status.returncode == 0, status.stderr
    rows = {r["provider_id"]: r for r in json.loads(status.stdout)}
    assert rows[1000]["registration_status"] == "ACTIVE"
    assert rows[2000]["registration_status"] == "PENDING_APPROVAL"
    assert rows[1000]["status_since"] > rows[1000]["first_seen_at"]
    table = world.run("status", "--status", "ACTIVE")
    assert "Flinks Capital" in table.stdout
    assert "NBC" not in table.stdout


def test_malformed_answer_fails_and_changes_nothing(world: World, flinks: FlinksSimulator) -> None:
    assert world.run("poll").returncode == 0
    before = world.run("status", "--format", "json").stdout
    events_before = world.run("history", "--format", "json").stdout

    flinks.set_raw_body(b'{"error": "not what you expected"}')
    failed = world.run("poll")
    assert failed.returncode == 1
    assert "not a JSON array" in failed.stderr
    assert "Traceback" not in failed.stderr

    flinks.set_raw_body(b'[{"client_id": "dc-x", "provider_id": 1')  # truncated
    assert world.run("poll").returncode == 1

    assert _without_clock(world.run("status", "--format", "json").stdout) == _without_clock(before)
    assert world.run("history", "--format", "json").stdout == events_before


def test_bad_row_is_skipped_named_and_exits_3(world: World, flinks: FlinksSimulator) -> None:
    assert world.run("poll").returncode == 0
    rows = flinks.rows
    rows[0]["provider_id"] = "not-a-number"
    rows.append(
        {
            **rows[1],
            "provider_id": 3000,
            "provider_name": "TD",
            "registration_status": "PENDING_APPROVAL",
        }
    )
    flinks.set_rows(rows)
    degraded = world.run("poll")
    assert degraded.returncode == 3, degraded.stderr
    assert "dc-alphalendingxxxxxxxxxxxxx" in degraded.stderr
    assert "provider_id" in degraded.stderr
    history = json.loads(world.run("history", "--format", "json").stdout)
    # The valid new row was recorded; the unreadable one was not concluded removed.
    assert [(e["event"], e["provider_id"]) for e in history if e["event"] != "baseline"] == [
        ("added", 3000)
    ]
    degraded_again = world.run("poll")
    assert degraded_again.returncode == 3
    history = json.loads(world.run("history", "--format", "json").stdout)
    assert not [e for e in history if e["event"] == "removed"]


def test_unreachable_flinks_fails_with_one_line(world: World, flinks: FlinksSimulator) -> None:
    flinks.stop()
    failed = world.run("poll")
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("flinkswatch: poll failed:")


@pytest.mark.parametrize(
    ("name", "value"),
    [("POLL_INTERVAL_SECONDS", "often"), ("SMTP_SECURITY", "maybe"), ("DATABASE_URL", "nonsense")],
)
def test_invalid_setting_exits_2_with_one_line(world: World, name: str, value: str) -> None:
    result = world.run("poll", **{name: value})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"flinkswatch: configuration error: {name}:")


def test_missing_credentials_exit_2(world: World) -> None:
    del world.env["FLINKS_CLIENT_SECRET"]
    result = world.run("poll")
    assert result.returncode == 2
    assert "FLINKS_CLIENT_SECRET must be set" in result.stderr


def test_history_before_any_database_is_a_clear_error(world: World) -> None:
    result = world.run("history")
    assert result.returncode == 2
    assert "flinkswatch migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_then_empty_status(world: World) -> None:
    migrated = world.run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "schema at" in migrated.stdout
    assert world.run("status").stdout.strip() == "(none)"


def test_numbers_no_database_column_holds_are_no_traceback(world: World) -> None:
    assert world.run("migrate").returncode == 0
    huge = "9" * 23  # OverflowError into SQLite before
    for args in (
        ("history", "--provider-id", huge),
        ("status", "--provider-id", "-" + huge),
        ("deliveries", "--limit", huge),
    ):
        result = world.run(*args)
        assert (result.returncode, result.stdout.strip()) == (0, "(none)"), result.stderr
        assert "Traceback" not in result.stderr


def test_check_reports_each_service(world: World, slack: FakeSlack, smtp: FakeSMTP) -> None:
    with_channels(world, slack, smtp)
    result = world.run("check")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name in ("settings", "database", "flinks", "slack", "email"):
        assert any(line.startswith("ok") and f"  {name}" in line for line in lines), (name, lines)
    bad = world.run("check", FLINKS_CLIENT_SECRET="wrong-secret")
    assert bad.returncode == 1
    assert any(
        line.startswith("FAIL") and "flinks" in line and "invalid_client" in line
        for line in bad.stdout.splitlines()
    )
    assert "wrong-secret" not in bad.stdout + bad.stderr


def test_poll_does_not_race_a_running_leader(world: World) -> None:
    """On PostgreSQL a one-off poll beside a leader steps aside; on SQLite the file is locked."""
    from app.db import engine as db
    from app.db.leader import Role, leadership_for

    engine = db.make_engine(world.env["DATABASE_URL"])
    leader = leadership_for(engine)
    try:
        if engine.dialect.name == "postgresql":
            assert leader.check() is Role.LEADER
            result = world.run("poll")
            assert "another flinkswatch instance holds the leader lock" in result.stderr
            # Named as pg_stat_activity shows the holder's session: host and pid in its name.
            assert f"flinkswatch-leader@{socket.gethostname()}:{os.getpid()}"[:63] in result.stderr
        else:
            leader.acquire()
            result = world.run("poll")
            assert f"another flinkswatch instance (pid {os.getpid()}) holds" in result.stderr
        assert result.returncode == 4  # SPEC 4: another instance holds the lock
        errors = [line for line in result.stderr.splitlines() if line.startswith("flinkswatch:")]
        assert len(errors) == 1, result.stderr
        assert "Traceback" not in result.stderr
    finally:
        leader.release()
        engine.dispose()
    assert world.run("poll").returncode == 0  # once the leader is gone, it runs


def test_unwritable_database_directory_is_one_line(sqlite_world: World) -> None:
    for command in ("poll", "migrate"):
        result = sqlite_world.run(command, DATABASE_URL="sqlite:////proc/flinkswatch/none.db")
        assert result.returncode == 1, (command, result.stderr)
        (line,) = result.stderr.strip().splitlines()
        assert "cannot create the database directory /proc/flinkswatch" in line
    # A read command creates nothing, so it names the missing file instead (issue 15).
    result = sqlite_world.run("status", DATABASE_URL="sqlite:////proc/flinkswatch/none.db")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "no database at sqlite:////proc/flinkswatch/none.db" in line


def test_database_from_a_newer_version_is_one_line(sqlite_world: World) -> None:
    import sqlite3

    assert sqlite_world.run("migrate").returncode == 0
    path = sqlite_world.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = sqlite_world.run("migrate")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "the database is at revision 9999, which this flinkswatch" in line
    assert "Traceback" not in result.stderr


def _without_clock(status_json: str) -> list[dict[str, object]]:
    """`status` rows without waiting_seconds, which grows with the wall clock between runs."""
    return [
        {k: v for k, v in row.items() if k != "waiting_seconds"} for row in json.loads(status_json)
    ]
