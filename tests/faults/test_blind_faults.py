"""SPEC 8 under faults: `flinkswatch run` processes SIGKILLed in the middle of an outage, and two
replicas on PostgreSQL, each announce the outage once and its end once, on every channel."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.db import engine as db
from app.db.tables import deliveries
from app.demo.simulator import FlinksSimulator
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import FakeSMTP
from tests.faults.harness import Launcher, service_env, wait_until

pytestmark = pytest.mark.faults

BLIND = "flinkswatch is blind: answers unreadable"
BACK = "flinkswatch can see again"


def titles(slack: FakeSlack) -> list[str]:
    return [m.blocks[0]["text"]["text"] for m in slack.received]


def subjects(smtp: FakeSMTP) -> list[str]:
    return [str(m.message["Subject"]) for m in smtp.messages]


def sent(engine: sa.Engine, kind: str) -> int:
    d = deliveries.c
    stmt = sa.select(sa.func.count()).where(d.kind == kind, d.status == "sent")
    with db.reading(engine) as conn:
        return int(conn.execute(stmt).scalar_one())


def environment(
    db_url: str, sim: FlinksSimulator, slack: FakeSlack, smtp: FakeSMTP
) -> dict[str, str]:
    return service_env(
        db_url,
        sim.base_url,
        {
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_CHANNEL": "C0BLIND",
            "SLACK_API_URL": slack.api_url,
            "SMTP_HOST": smtp.host,
            "SMTP_PORT": str(smtp.port),
            "SMTP_SECURITY": "none",
            "EMAIL_FROM": "flinkswatch@example.com",
            "EMAIL_TO": "ops@example.com",
            "BLIND_AFTER_FAILURES": "3",
        },
    )


def outage_then_recovery(
    sim: FlinksSimulator, engine: sa.Engine, launcher: Launcher, env: dict[str, str]
) -> None:
    """Break the answers until the blind alert is recorded as sent on both channels, SIGKILL
    every process, start as many again, let a few more cycles fail, then heal the upstream."""
    sim.set_raw_body(b"<html>Service temporarily unavailable</html>")
    wait_until(lambda: sent(engine, "watcher_blind") == 2, 60, "the blind alert to be sent")
    running = [proc for proc in launcher.started if proc.popen.poll() is None]
    for proc in running:
        proc.kill()
    for _ in running:
        launcher.start(env)
    before = sim.listing_requests
    wait_until(lambda: sim.listing_requests >= before + 4, 60, "more failed cycles")
    sim.set_raw_body(None)
    wait_until(lambda: sent(engine, "watcher_recovered") == 2, 60, "the recovery to be sent")


ROWS = [
    {
        "client_id": "dc-blind",
        "client_name": "Blind Lending",
        "provider_id": 7,
        "provider_name": "NBC",
        "country": "CA",
        "registration_status": "PENDING_APPROVAL",
        "requested_on": "2026-10-01T10:00:00Z",
    }
]


def test_a_sigkill_in_an_outage_announces_it_once_and_its_end_once(
    db_url: str, launcher: Launcher
) -> None:
    with (
        FlinksSimulator("fault-client", "fault-secret-value", rows=ROWS) as sim,
        FakeSlack(token="xoxb-blind-token") as slack,
        FakeSMTP() as smtp,
    ):
        env = environment(db_url, sim, slack, smtp)
        engine = db.make_engine(db_url)
        try:
            launcher.start(env)
            wait_until(lambda: len(slack.received) >= 1, 60, "the baseline")
            outage_then_recovery(sim, engine, launcher, env)
            assert launcher.started[-1].terminate() == 0
        finally:
            engine.dispose()
        assert titles(slack) == ["flinkswatch: baseline recorded", BLIND, BACK]
        assert subjects(smtp) == ["flinkswatch: now watching 1 registration", BLIND, BACK]


@pytest.mark.postgres
def test_two_replicas_announce_an_outage_once(pg_url: str, launcher: Launcher) -> None:
    with (
        FlinksSimulator("fault-client", "fault-secret-value", rows=ROWS) as sim,
        FakeSlack(token="xoxb-blind-token") as slack,
        FakeSMTP() as smtp,
    ):
        env = environment(pg_url, sim, slack, smtp)
        engine = db.make_engine(pg_url)
        try:
            launcher.start(env)
            launcher.start(env)
            wait_until(lambda: len(slack.received) >= 1, 60, "the baseline")
            outage_then_recovery(sim, engine, launcher, env)
            for proc in launcher.started[-2:]:
                assert proc.terminate() == 0
        finally:
            engine.dispose()
        assert titles(slack) == ["flinkswatch: baseline recorded", BLIND, BACK]
        assert subjects(smtp)[1:] == [BLIND, BACK]
