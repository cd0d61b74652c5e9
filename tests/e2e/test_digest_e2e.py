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
        assert "NBC for Alpha Lending: PENDING_APPROVAL for " in message.text
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
