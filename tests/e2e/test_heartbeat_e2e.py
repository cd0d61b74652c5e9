"""HEARTBEAT_URL and HEARTBEAT_FAIL_URL as a cron user sets them: `flinkswatch poll` pings the
one that fits each cycle, and an unreachable monitor changes neither the exit code nor the data."""

from __future__ import annotations

import json
import socket

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World
from tests.fakes.heartbeat_server import FakeHeartbeat

pytestmark = pytest.mark.e2e


def test_poll_pings_success_then_fail_and_the_url_never_reaches_the_output(
    world: World, flinks: FlinksSimulator
) -> None:
    with FakeHeartbeat() as hb:
        urls = {
            "HEARTBEAT_URL": f"{hb.url}/ping/5f1c-secret",
            "HEARTBEAT_FAIL_URL": f"{hb.url}/ping/5f1c-secret/fail",
        }
        ok = world.run("poll", **urls)
        flinks.set_raw_body(b"<html>maintenance</html>")
        failed = world.run("poll", LOG_LEVEL="DEBUG", **urls)
        paths = hb.wait_for(2)

    assert (ok.returncode, failed.returncode) == (0, 1)
    assert paths == ["/ping/5f1c-secret", "/ping/5f1c-secret/fail"]
    for run in (ok, failed):
        assert "5f1c-secret" not in run.stdout + run.stderr  # DEBUG shows httpx's request lines


def test_an_unreachable_monitor_changes_nothing(world: World, flinks: FlinksSimulator) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = world.run("poll", HEARTBEAT_URL=f"http://127.0.0.1:{port}/ping/x")

    assert done.returncode == 0
    assert "heartbeat.failed ping=success error=ConnectError" in done.stderr
    status = json.loads(world.run("status", "--format", "json").stdout)
    assert len(status) == len(flinks.rows)  # the baseline was recorded as usual
