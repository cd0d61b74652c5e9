"""`flinkswatch run` and `flinkswatch demo` as long-running processes: polls, signals, exit 0."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World
from tests.fakes.smtp_server import free_port

pytestmark = pytest.mark.e2e
FORWARD = re.compile(
    r" alert moved forward: .*: "
    r"(PENDING_APPROVAL -> PENDING_ACTIVATION|PENDING_ACTIVATION -> ACTIVE)"
)


def wait_until(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)  # polling a condition with a deadline, not synchronising on time
    raise AssertionError("condition not met in time")


def healthz(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_polls_on_schedule_and_stops_cleanly(
    world: World, flinks: FlinksSimulator, sig: signal.Signals
) -> None:
    port = free_port()
    proc = world.popen("run", HTTP_PORT=str(port))
    try:
        wait_until(lambda: healthz(port) == 200)
        polls = flinks.listing_requests
        wait_until(lambda: flinks.listing_requests >= polls + 2)  # it keeps polling every second
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "service.stopped" in err


def test_run_with_an_address_in_use_exits_2(sqlite_world: World) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = sqlite_world.run("run", HTTP_PORT=str(port), timeout=30)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_shows_a_baseline_then_alerts(sqlite_world: World) -> None:
    sqlite_world.env.pop("DATABASE_URL")  # the demo brings its own throwaway database
    result = sqlite_world.run(
        "demo", "--interval", "1", "--cycles", "3", "--seed", "7", HTTP_PORT="0"
    )
    assert result.returncode == 0, result.stderr
    by_poll: dict[str, list[str]] = {}  # the alert lines of each poll, in order
    for line in result.stderr.splitlines():
        if " alert " in line:
            by_poll.setdefault(line.rsplit(" poll=", 1)[1], []).append(line)
    baseline, *later = by_poll.values()
    assert len(baseline) == 1
    assert "Now watching 6 registrations: 6 PENDING_APPROVAL" in baseline[0]
    assert len(later) == 2  # --cycles 3: the baseline, then two polls
    for lines in later:  # every later poll sees at least one registration move one step forward
        moved = [line for line in lines if FORWARD.search(line)]
        assert moved, lines
    assert not list(sqlite_world.cwd.glob("data"))  # nothing left behind in the working directory


def test_demo_on_a_taken_port_says_which_setting_moves_it(sqlite_world: World) -> None:
    import socket

    sqlite_world.env.pop("DATABASE_URL")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = sqlite_world.run(
            "demo", "--interval", "1", "--cycles", "1", "--seed", "7", HTTP_PORT=str(port)
        )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "demo.http_off" in line]
    assert f"reason=port_in_use host=127.0.0.1 port={port}" in line
    suggested = int(line.split(" set HTTP_PORT=", 1)[1].split(" ", 1)[0])
    assert suggested not in (0, port)
    assert "HTTP_PORT=0 for none" in line


def test_status_json_after_run_has_the_spec_fields(world: World, flinks: FlinksSimulator) -> None:
    assert world.run("poll").returncode == 0
    (first, *_) = json.loads(world.run("status", "--format", "json").stdout)
    assert {
        "client_id",
        "client_name",
        "provider_id",
        "provider_name",
        "country",
        "registration_status",
        "requested_on",
        "first_seen_at",
        "status_since",
    } <= set(first)
    (event, *_) = json.loads(world.run("history", "--format", "json").stdout)
    assert {
        "client_id",
        "client_name",
        "provider_id",
        "provider_name",
        "country",
        "event",
        "from_status",
        "to_status",
        "observed_at",
        "requested_on",
    } <= set(event)


def test_python_dash_m_app_is_the_same_command(sqlite_world: World) -> None:
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "app", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=sqlite_world.cwd,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("flinkswatch ")
