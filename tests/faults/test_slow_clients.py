"""Issue 22 item 6: slow and idle clients must not take the probes down. A real `flinkswatch
run` with 250 connections dripping a header line a second (more than the connection limit,
reopened when closed): /healthz keeps answering, quickly, all along."""

from __future__ import annotations

import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from app.demo.simulator import FlinksSimulator
from tests.fakes.smtp_server import free_port
from tests.faults.harness import Launcher, service_env, wait_until
from tests.faults.slowclients import SlowClients
from tests.faults.upstream import seed_rows

pytestmark = pytest.mark.faults

SLOW_CLIENTS = 250  # more than waitress' default connection_limit (100)
PROBE_SECONDS = 2.0  # a liveness probe's usual timeout
RUN_SECONDS = 6.0


@pytest.fixture
def sim() -> Iterator[FlinksSimulator]:
    with FlinksSimulator(
        "fault-client", "fault-secret-value", rows=seed_rows(5, random.Random(3))
    ) as s:
        yield s


def _healthz(port: int) -> tuple[int | None, float]:
    started = time.monotonic()
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, timeout=PROBE_SECONDS) as answer:
            status: int | None = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = None
    return status, time.monotonic() - started


def test_healthz_answers_while_slow_clients_hold_every_connection(
    sqlite_url: str, launcher: Launcher, sim: FlinksSimulator
) -> None:
    port = free_port()
    proc = launcher.start(service_env(sqlite_url, sim.base_url, {"HTTP_PORT": str(port)}))
    wait_until(lambda: _healthz(port)[0] == 200, 30, "a healthy service")

    probes: list[tuple[int | None, float]] = []
    with SlowClients(port, SLOW_CLIENTS) as slow:
        ends = time.monotonic() + RUN_SECONDS
        while time.monotonic() < ends:
            probes.append(_healthz(port))
            time.sleep(0.25)  # the probe's own period, not a synchronisation
        opened = slow.opened
    worst = max(took for _status, took in probes)
    print(f"\nfaults: slow clients={SLOW_CLIENTS} opened={opened} probes={len(probes)}", end="")
    print(f" worst={worst:.3f}s")
    assert opened >= SLOW_CLIENTS
    assert [status for status, _took in probes] == [200] * len(probes), probes
    assert worst < PROBE_SECONDS
    assert proc.popen.poll() is None, proc.text()[-2000:]
    assert "Traceback" not in proc.text()
