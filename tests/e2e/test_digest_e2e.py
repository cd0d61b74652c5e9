"""`flinkswatch digest` as a user runs it, against the fake Slack (bot and webhook) and SMTP relay:
`--dry-run` prints every channel's message and sends and records nothing; without it the digest
is recorded and reaches every channel once."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World, with_channels
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import FakeSMTP

pytestmark = pytest.mark.e2e


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 - our own table names
    finally:
        engine.dispose()


def _activate(flinks: FlinksSimulator, provider_id: int) -> None:
    rows = flinks.rows
    for row in rows:
        if row["provider_id"] == provider_id:
            row["registration_status"] = "ACTIVE"
    flinks.set_rows(rows)


def test_digest_dry_run_prints_and_records_nothing(
    world: World, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    with_channels(world, slack, smtp)
    assert world.run("poll").returncode == 0  # the baseline: one summary per channel
    baseline = len(slack.wait_for(2))
    mails = len(smtp.wait_for(1))
    deliveries = _count(world.env["DATABASE_URL"], "deliveries")

    done = world.run("digest", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "== slack (C0REGISTRATIONS)" in done.stdout
    assert "== email (ops@example.com, integration@example.com)" in done.stdout
    assert "Subject: flinkswatch digest: " in done.stdout
    assert "Pending now (2), longest first" in done.stdout
    assert "(dry run: nothing sent, nothing recorded)" in done.stdout
    payload = done.stdout.split("== slack (C0REGISTRATIONS)\n", 1)[1].split("\n\n== ", 1)[0]
    assert json.loads(payload)["blocks"][0]["text"]["text"].startswith("flinkswatch digest: ")
    assert _count(world.env["DATABASE_URL"], "digests") == 0
    assert _count(world.env["DATABASE_URL"], "deliveries") == deliveries
    assert len(slack.received) == baseline
    assert len(smtp.messages) == mails


def test_digest_is_recorded_and_sent_to_every_channel_once(
    world: World, flinks: FlinksSimulator, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    with_channels(world, slack, smtp)
    assert world.run("poll").returncode == 0
    _activate(flinks, 1000)  # Flinks Capital goes ACTIVE
    assert world.run("poll").returncode == 0
    before = len(slack.wait_for(4))  # baseline and the move, bot and webhook
    mails = len(smtp.wait_for(2))

    done = world.run("digest", "--since", "2020-01-01")
    assert done.returncode == 0, done.stderr
    assert "digest 1 sent (3 channels)" in done.stdout
    got = slack.wait_for(before + 2)[before:]
    assert {m.via for m in got} == {"api", "webhook"}
    for message in got:
        assert message.text.startswith("flinkswatch digest: 2020-01-01 to ")
        assert "Flinks Capital for Alpha Lending: ACTIVE on " in message.text
        assert "NBC for Alpha Lending: PENDING_APPROVAL, waiting " in message.text
    mail = smtp.wait_for(mails + 1)[-1].message
    assert str(mail["Subject"]).startswith("flinkswatch digest: 2020-01-01 to ")
    assert (
        "2 polls, 0 failed. Never blind in this period." in mail.get_body(("plain",)).get_content()
    )
    assert _count(world.env["DATABASE_URL"], "digests") == 1
    assert world.run("poll").returncode == 0
    assert len(slack.received) == before + 2  # nothing owed: sent once


def test_digest_since_must_be_a_date_in_the_past(world: World) -> None:
    assert world.run("poll").returncode == 0
    done = world.run("digest", "--since", "next week")
    assert done.returncode == 2
    assert "--since: not an ISO 8601 date or time" in done.stderr
    assert world.run("digest", "--since", "2999-01-01").returncode == 2


def test_run_sends_a_missed_digest_once_across_two_restarts(
    world: World, flinks: FlinksSimulator, slack: FakeSlack
) -> None:
    """The installed service with DIGEST_SCHEDULE, watching for a month but down at the last
    Monday 09:00: its first start sends that digest, the second start sends nothing again."""
    import signal
    from datetime import UTC, datetime, timedelta

    from tests.e2e.test_service_e2e import wait_until

    world.env.update(
        {
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_CHANNEL": "C0REGISTRATIONS",
            "SLACK_API_URL": slack.api_url,
            "DIGEST_SCHEDULE": "0 9 * * MON",
        }
    )
    assert world.run("migrate").returncode == 0
    url = world.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    at = datetime.now(UTC) - timedelta(days=30)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO poll_runs (started_at, finished_at, outcome) VALUES (:at, :at, 'ok')"
            ),
            {"at": at if engine.dialect.name == "postgresql" else at.replace(tzinfo=None)},
        )
    engine.dispose()

    def digests_sent() -> int:
        return sum(m.text.startswith("flinkswatch digest: ") for m in slack.received)

    for start in range(2):
        polls = flinks.listing_requests
        proc = world.popen("run")
        try:
            wait_until(lambda n=polls: flinks.listing_requests >= n + 2)  # two cycles are done
            if start == 0:
                wait_until(lambda: digests_sent() == 1)
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert ("digest.recorded id=1" in err) == (start == 0), err
    assert digests_sent() == 1
    assert _count(world.env["DATABASE_URL"], "digests") == 1
