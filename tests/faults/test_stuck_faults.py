"""SPEC 9 reminders with the installed `run` against the fake Flinks and Slack, seconds-long
thresholds: each stuck registration is reminded once, a SIGKILL and restart repeats none, and
one that moves gets its move alerted and no further reminder."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.db import engine as db
from app.db.tables import deliveries, registration_events
from app.demo.simulator import FlinksSimulator
from tests.fakes.slack_server import FakeSlack
from tests.faults.harness import Launcher, service_env, wait_until
from tests.faults.test_blind_faults import ROWS

pytestmark = pytest.mark.faults


def stuck_messages(slack: FakeSlack) -> list[str]:
    return [m.text for m in slack.received if ":hourglass:" in m.text]


def settled(engine: sa.Engine) -> bool:
    d = deliveries.c
    with db.reading(engine) as conn:
        return not conn.execute(sa.select(d.id).where(d.status != "sent").limit(1)).first()


def reminders(engine: sa.Engine) -> int:
    e = registration_events.c
    with db.reading(engine) as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(e.event == "stuck")).scalar_one())


def test_reminded_once_across_a_sigkill_and_not_after_it_moves(
    sqlite_url: str, launcher: Launcher
) -> None:
    with (
        FlinksSimulator("fault-client", "fault-secret-value", rows=ROWS) as sim,
        FakeSlack(token="xoxb-stuck-token") as slack,
    ):
        env = service_env(
            sqlite_url,
            sim.base_url,
            {
                "SLACK_BOT_TOKEN": slack.token,
                "SLACK_CHANNEL": "C0STUCK",
                "SLACK_API_URL": slack.api_url,
                "STUCK_AFTER": "PENDING_APPROVAL=2s",
                "STUCK_REPEAT": "1h",
            },
        )
        launcher.start(env)
        wait_until(lambda: len(stuck_messages(slack)) >= 1, 60, "the first reminder")
        engine = db.make_engine(sqlite_url)
        try:
            wait_until(lambda: settled(engine), 30, "its delivery to be recorded")
            launcher.started[-1].kill()
            launcher.start(env)
            before = sim.listing_requests
            wait_until(lambda: sim.listing_requests >= before + 3, 60, "three more cycles")
            assert reminders(engine) == 1
            sim.set_rows([{**ROWS[0], "registration_status": "PENDING_ACTIVATION"}])
            wait_until(
                lambda: any("moved forward" in m.text for m in slack.received), 30, "the move"
            )
            before = sim.listing_requests
            wait_until(lambda: sim.listing_requests >= before + 3, 60, "three more cycles")
            assert launcher.started[-1].terminate() == 0
            assert reminders(engine) == 1
        finally:
            engine.dispose()
    [text] = stuck_messages(slack)
    assert "still PENDING_APPROVAL after" in text
    assert "waiting for Flinks" in text
