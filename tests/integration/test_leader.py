"""High availability: one leader per database. On PostgreSQL replicas of `run` stand by and one
takes over within two intervals; on SQLite a second instance refuses to start."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db.leader import FileGuard, LockHeld, PgLeader, Role, leadership_for
from app.demo.simulator import FlinksSimulator
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import free_port
from tests.faults.harness import Alert, Launcher, Proc, section_alerts, service_env, wait_until
from tests.faults.upstream import seed_rows

INTERVAL = 2


def _pending(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            sql = "SELECT count(*) FROM deliveries WHERE status = 'pending'"
            return int(conn.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def _leader_gauge(port: int) -> float | None:
    status, text = _get(port, "/metrics")
    for line in text.splitlines() if status == 200 else []:
        if line.startswith("flinkswatch_leader "):
            return float(line.split()[1])
    return None


def _move(sim: FlinksSimulator, index: int) -> Alert:
    rows = sim.rows
    row = rows[index]
    old = row["registration_status"]
    new = "ACTIVE" if old != "ACTIVE" else "PENDING_APPROVAL"
    row["registration_status"] = new
    sim.set_rows(rows)
    return ("status_changed", row["client_id"], row["provider_id"], old, new)


def _slack_alerts(slack: FakeSlack) -> Counter[Alert]:
    return sum((section_alerts(m.blocks) for m in slack.received), Counter[Alert]())


# ---- PostgreSQL: the advisory lock itself --------------------------------------------------------
@pytest.mark.postgres
def test_second_pg_leader_stands_by_until_the_first_releases(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    first, second = PgLeader(engine), PgLeader(engine)
    try:
        assert first.check() is Role.LEADER
        assert second.check() is Role.STANDBY
        assert first.check() is Role.LEADER  # confirmed, not re-counted
        first.release()
        assert second.check() is Role.LEADER
        assert first.check() is Role.STANDBY
    finally:
        first.release()
        second.release()
        engine.dispose()


@pytest.mark.postgres
def test_lost_lock_session_is_lost_leadership_then_taken_again(pg_url: str) -> None:
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    leader = PgLeader(engine)
    try:
        assert leader.check() is Role.LEADER
        with engine.connect() as admin:
            killed = (
                admin.execute(
                    sa.text(
                        # Wait until the backend is gone: only then are its locks released.
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                        " WHERE application_name LIKE 'flinkswatch-leader@%'"
                        " AND datname = current_database()"
                    )
                )
                .scalars()
                .all()
            )
        assert killed == [True]
        assert not leader.still_held()
        assert leader.check() is Role.LEADER  # a new session, a new lock
    finally:
        leader.release()
        engine.dispose()


def test_unreachable_database_is_unknown_not_leader() -> None:
    engine = sa.create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    leader = leadership_for(engine)
    try:
        assert leader.check() is Role.UNKNOWN
        assert not leader.still_held()
    finally:
        leader.release()
        engine.dispose()


# ---- SQLite: one instance per file ---------------------------------------------------------------
def _probe(lock: Path) -> str:
    """Whether another process can take the lock: "free" or "held"."""
    done = subprocess.run(
        [sys.executable, "-c", _TRY_FLOCK, str(lock)], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def test_file_guard_is_exclusive(tmp_path: Path) -> None:
    database = tmp_path / "watch.db"
    first = FileGuard(database)
    first.acquire()
    first.acquire()  # idempotent
    assert _probe(first.path) == "held"
    with pytest.raises(LockHeld, match=rf"another flinkswatch instance \(pid {os.getpid()}\)"):
        FileGuard(database).acquire()
    first.release()
    assert _probe(first.path) == "free"


_TRY_FLOCK = """
import fcntl, sys
with open(sys.argv[1], "a") as f:
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("free")
    except BlockingIOError:
        print("held")
"""


def test_second_instance_on_one_sqlite_file_exits_4_naming_the_first(
    sqlite_url: str, launcher: Launcher
) -> None:
    with FlinksSimulator("fault-client", "fault-secret-value", rows=[]) as sim:
        env = service_env(sqlite_url, sim.base_url)
        first = launcher.start(env)
        wait_until(lambda: sim.listing_requests > 0, 30, "the first instance to poll")
        second = launcher.start(env)
        assert second.popen.wait(timeout=30) == 4  # SPEC 4: the lock is held, not a config error
        lines = second.text().strip().splitlines()
        assert len(lines) == 1, lines
        assert f"another flinkswatch instance (pid {first.popen.pid}) holds" in lines[0]
        assert "configuration error" not in lines[0]
        assert "SQLite" in lines[0]
        poll = launcher.start(env, "poll")  # a one-off poll beside it: the same answer
        assert poll.popen.wait(timeout=30) == 4
        assert f"(pid {first.popen.pid})" in poll.text()
        assert first.popen.poll() is None  # the first one is untouched
        assert first.terminate() == 0
        # A clean stop releases the lock: a new instance starts.
        third = launcher.start(env)
        before = sim.listing_requests
        wait_until(lambda: sim.listing_requests > before, 30, "the next instance to poll")
        assert third.terminate() == 0


# ---- two replicas of `run` on one PostgreSQL -----------------------------------------------------
@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    runs = Launcher(tmp_path)
    try:
        yield runs
    finally:
        runs.reap()


def _replica(launcher: Launcher, env: dict[str, str]) -> tuple[Proc, int]:
    port = free_port()
    return launcher.start({**env, "HTTP_PORT": str(port)}), port


@pytest.mark.postgres
def test_two_replicas_one_alert_per_event_and_takeover_within_two_intervals(
    pg_url: str, launcher: Launcher
) -> None:
    rows = seed_rows(6, random.Random(7))
    for row in rows:
        row["registration_status"] = "PENDING_APPROVAL"
    with (
        FlinksSimulator("fault-client", "fault-secret-value", rows=rows) as sim,
        FakeSlack(token="xoxb-ha-token") as slack,
    ):
        env = service_env(
            pg_url,
            sim.base_url,
            {
                "POLL_INTERVAL_SECONDS": str(INTERVAL),
                "SLACK_BOT_TOKEN": slack.token,
                "SLACK_CHANNEL": "C0HA",
                "SLACK_API_URL": slack.api_url,
            },
        )
        first, first_port = _replica(launcher, env)
        wait_until(lambda: _leader_gauge(first_port) == 1, 30, "the first replica to lead")
        slack.wait_for(1, timeout=30)  # the baseline summary
        second, second_port = _replica(launcher, env)
        wait_until(lambda: _leader_gauge(second_port) == 0, 30, "the second replica to stand by")
        status, body = _get(second_port, "/healthz")
        assert (status, json.loads(body)["status"]) == (200, "standby")

        expected = Counter([_move(sim, 0), _move(sim, 1)])
        wait_until(lambda: _slack_alerts(slack) == expected, 30, "the two alerts")
        expected.update([_move(sim, 2)])
        wait_until(lambda: _slack_alerts(slack) == expected, 30, "the third alert")
        # Killed between a send and its bookkeeping, the leader's successor would send that
        # message again: the one duplicate a crash may cause, not what this test is about.
        wait_until(lambda: _pending(pg_url) == 0, 30, "the third alert to be marked sent")

        first.popen.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        first.popen.wait(timeout=10)
        before = sim.listing_requests
        wait_until(lambda: sim.listing_requests > before, 3 * INTERVAL, "the follower to poll")
        took_over = time.monotonic() - killed_at
        assert took_over <= 2 * INTERVAL, f"follower polled {took_over:.1f} s after the kill"
        assert _leader_gauge(second_port) == 1

        expected.update([_move(sim, 3)])
        wait_until(lambda: _slack_alerts(slack) == expected, 30, "the alert after the takeover")
        assert second.terminate() == 0
    summaries = [m for m in slack.received if "baseline" in m.text.lower()]
    assert len(summaries) == 1, "the baseline was announced by one replica only"
    assert _slack_alerts(slack) == expected, "one alert per event, none from two replicas"
    print(f"\nleader: follower polled {took_over:.2f} s after the leader was killed")
