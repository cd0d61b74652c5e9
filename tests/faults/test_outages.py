"""Outages of what the watcher depends on: PostgreSQL restarted under a running service, SQLite
locked by another writer, Slack and SMTP down for many cycles. Nothing is lost, nothing half
written, and with no crash every alert arrives exactly once."""

from __future__ import annotations

import random
import sqlite3
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.config.settings import load_settings
from app.db import engine as db
from app.db.tables import deliveries, poll_runs, registration_events, registrations
from app.demo.simulator import FlinksSimulator
from app.domain import Outcome
from app.wiring import App, build_app
from tests.fakes.slack_server import FakeSlack, Scripted
from tests.fakes.smtp_server import FakeSMTP, free_port
from tests.faults.harness import (
    Alert,
    Launcher,
    PrivatePostgres,
    alerts_in,
    section_alerts,
    service_env,
    wait_until,
)
from tests.faults.upstream import seed_rows

pytestmark = pytest.mark.faults


def move(sim: FlinksSimulator, index: int) -> Alert:
    """Move row `index` one step along the lifecycle (ACTIVE goes back to the start)."""
    rows = sim.rows
    row = rows[index]
    order = ("PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE")
    old = row["registration_status"]
    new = order[(order.index(old) + 1) % 3] if old in order else "PENDING_APPROVAL"
    row["registration_status"] = new
    sim.set_rows(rows)
    return ("status_changed", row["client_id"], row["provider_id"], old, new)


def slack_alerts(slack: FakeSlack) -> Counter[Alert]:
    return sum((section_alerts(m.blocks) for m in slack.received), Counter[Alert]())


def mail_alerts(smtp: FakeSMTP) -> Counter[Alert]:
    found: Counter[Alert] = Counter()
    for mail in smtp.messages:
        body = mail.message.get_body(preferencelist=("plain",))
        found += alerts_in(str(body.get_content()) if body is not None else "")
    return found


def metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def _metric_or_zero(port: int, name: str) -> float:
    try:
        return metric(port, name)
    except OSError:
        return 0.0


@pytest.fixture
def sim() -> Iterator[FlinksSimulator]:
    rows = seed_rows(8, random.Random(5))
    with FlinksSimulator("fault-client", "fault-secret-value", rows=rows) as simulator:
        yield simulator


def in_process(db_url: str, sim: FlinksSimulator, **extra: Any) -> App:
    settings = load_settings(
        stuck_after="",  # the seeded rows were requested weeks ago: no reminders here
        late_after="",
        database_url=db_url,
        flinks_client_id="fault-client",
        flinks_client_secret="fault-secret-value",
        flinks_base_url=sim.base_url,
        flinks_token_url=sim.token_url,
        flinks_timeout_seconds=2,
        **extra,
    )
    app = build_app(settings)
    app.poller.sleep = lambda _seconds: None  # Slack pacing is not under test here
    return app


# ---- PostgreSQL restarted under `flinkswatch run` -----------------------------------------------
def test_postgres_restart_under_a_running_service_loses_nothing(
    private_pg: PrivatePostgres, launcher: Launcher, sim: FlinksSimulator
) -> None:
    port = free_port()
    with FakeSlack(token="xoxb-restart-token") as slack:
        env = service_env(
            private_pg.url,
            sim.base_url,
            {
                "HTTP_PORT": str(port),
                "SLACK_BOT_TOKEN": slack.token,
                "SLACK_CHANNEL": "C0RESTART",
                "SLACK_API_URL": slack.api_url,
            },
        )
        service = launcher.start(env)
        slack.wait_for(1, timeout=30)  # the baseline summary
        expected = Counter([move(sim, 0)])
        wait_until(lambda: slack_alerts(slack) == expected, 30, "the alert before the outage")

        private_pg.stop()
        expected.update([move(sim, 1), move(sim, 2)])  # happens while nothing can be recorded
        failures = 'flinkswatch_poll_failures_total{kind="database"}'
        wait_until(lambda: _metric_or_zero(port, failures) >= 2, 30, "two failed cycles")
        assert service.popen.poll() is None, "the service must survive the outage"
        private_pg.start()

        wait_until(lambda: slack_alerts(slack) == expected, 60, "the alerts after the restart")
        expected.update([move(sim, 3)])
        wait_until(lambda: slack_alerts(slack) == expected, 30, "the next alert")
        assert service.terminate() == 0
    log = service.text()
    assert "leader.lost" in log
    assert "Traceback" not in log, log[-3000:]
    assert slack_alerts(slack) == expected, "each alert once: no crash, so no duplicate"


# ---- SQLite locked by another writer ------------------------------------------------------------
def _table_counts(engine: sa.Engine) -> dict[str, int]:
    with db.reading(engine) as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in (poll_runs, registrations, registration_events, deliveries)
        }


def test_sqlite_locked_by_another_writer_fails_the_cycle_cleanly(
    sqlite_url: str, sim: FlinksSimulator, tmp_path: Path
) -> None:
    app = in_process(sqlite_url, sim)
    try:
        # A short busy_timeout (after app.db's 5000 ms) keeps the test fast; the behaviour is
        # the same at any length: the writer gives up once the timeout is over.
        app.engine.dispose()
        sa.event.listen(
            app.engine, "connect", lambda dbapi, _rec: dbapi.execute("PRAGMA busy_timeout=200")
        )
        assert app.poller.poll_once().outcome is Outcome.OK  # baseline
        moved = move(sim, 0)
        before = _table_counts(app.engine)

        other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # held across the whole cycle: longer than the timeout
        try:
            locked = app.poller.poll_once()
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert locked.outcome is Outcome.FAILED
        assert locked.failure_kind == "database"
        assert "locked" in (locked.error or "")
        assert _table_counts(app.engine) == before, "nothing half-written"

        after = app.poller.poll_once()
        assert after.outcome is Outcome.OK
        assert after.events == 1
        with db.reading(app.engine) as conn:
            e = registration_events.c
            rows = conn.execute(
                sa.select(e.client_id, e.from_status, e.to_status).where(
                    e.event == "status_changed"
                )
            ).all()
        assert [tuple(r) for r in rows] == [moved[1:2] + moved[3:]]
    finally:
        app.close()


# ---- Slack and SMTP down for many cycles --------------------------------------------------------
DOWN_CYCLES = 8


def test_slack_and_smtp_down_for_many_cycles_then_every_alert_arrives_once(
    db_url: str, sim: FlinksSimulator
) -> None:
    with (
        FakeSlack(token="xoxb-down-token") as slack,
        FakeSMTP() as smtp,
    ):
        app = in_process(
            db_url,
            sim,
            slack_bot_token=slack.token,
            slack_channel="C0DOWN",
            slack_api_url=slack.api_url,
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_security="none",
            email_from="flinkswatch@example.com",
            email_to="ops@example.com",
        )
        try:
            assert app.poller.poll_once().outcome is Outcome.OK  # baseline, delivered
            slack.wait_for(1)
            smtp.wait_for(1)
            outages = [Scripted(503, "down"), Scripted(drop=True), Scripted(500, "oops")]
            slack.enqueue(*(outages[i % 3] for i in range(DOWN_CYCLES)))
            smtp.reply_to_next_data(*["451 4.3.0 try again later"] * DOWN_CYCLES)
            expected: Counter[Alert] = Counter()
            for cycle in range(DOWN_CYCLES):
                expected.update([move(sim, cycle % 8)])
                result = app.poller.poll_once()
                assert result.outcome is Outcome.OK  # the poll itself is fine
                assert result.delivered == 0
            assert len(slack.received) == 1, "nothing got through while Slack was down"
            assert len(smtp.messages) == 1, "nothing got through while SMTP was down"

            for _ in range(2):  # back: the backlog goes out
                app.poller.poll_once()
            assert slack_alerts(slack) == expected
            assert mail_alerts(smtp) == expected
            with db.reading(app.engine) as conn:
                states = Counter(conn.execute(sa.select(deliveries.c.status)).scalars())
            assert set(states) == {"sent"}
        finally:
            app.close()
