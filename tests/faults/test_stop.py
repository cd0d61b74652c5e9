"""SIGTERM to a real `flinkswatch run` while upstream misbehaves: the process exits within
STOP_SECONDS whatever Flinks does (a 503 storm asking `Retry-After: 60`, an answer that never
comes), exit status 0, no further request after the signal, nothing half-recorded."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from app.db import engine as db
from app.db.tables import deliveries, poll_runs, registration_events, registrations
from app.demo.simulator import FlinksSimulator
from tests.faults.harness import Launcher, Proc, service_env, wait_until
from tests.faults.upstream import seed_rows

pytestmark = pytest.mark.faults

STOP_SECONDS = 5.0  # SPEC: stops cleanly on SIGTERM; deploy/ grants a little more than this
Inside = Callable[[FlinksSimulator, Proc], bool]


@pytest.fixture
def sim() -> Iterator[FlinksSimulator]:
    rows = seed_rows(5, random.Random(7))
    with FlinksSimulator("fault-client", "fault-secret-value", rows=rows) as simulator:
        yield simulator


def _storm(sim: FlinksSimulator) -> None:
    sim.fail_next(50, 503, b"busy", {"Retry-After": "60"})


def _in_the_retry_wait(sim: FlinksSimulator, proc: Proc) -> bool:
    # The client logs the retry, then waits Retry-After (60 s) before the next attempt.
    return "flinks.retry" in proc.text() and "wait=60.0s" in proc.text()


def _hang(sim: FlinksSimulator) -> None:
    sim.delay_next(60, n=5)  # the answer never comes within FLINKS_TIMEOUT_SECONDS


def _in_the_hanging_request(sim: FlinksSimulator, proc: Proc) -> bool:
    # Counted as the simulator takes the request, before it holds the answer back.
    return sim.listing_requests >= 1


# How upstream misbehaves, and how to tell the service is waiting on it.
UPSTREAM: dict[str, tuple[Callable[[FlinksSimulator], None], Inside]] = {
    "503 Retry-After 60": (_storm, _in_the_retry_wait),
    "no answer": (_hang, _in_the_hanging_request),
}


@pytest.mark.parametrize("upstream", sorted(UPSTREAM))
def test_sigterm_stops_run_within_seconds_whatever_flinks_does(
    sqlite_url: str, launcher: Launcher, sim: FlinksSimulator, upstream: str
) -> None:
    arrange, inside = UPSTREAM[upstream]
    arrange(sim)
    # A 300 s interval: the cycle's Flinks deadline (4 x 30 s) has room for the 60 s wait.
    extra = {"FLINKS_TIMEOUT_SECONDS": "30", "POLL_INTERVAL_SECONDS": "300"}
    env = service_env(sqlite_url, sim.base_url, extra)
    proc = launcher.start(env)
    wait_until(lambda: inside(sim, proc), 30, f"the service waiting on upstream ({upstream})")
    asked = sim.listing_requests

    started = time.monotonic()
    proc.popen.terminate()
    code = proc.popen.wait(timeout=120)
    took = time.monotonic() - started
    print(f"\nfaults: stop upstream={upstream!r} took={took:.2f}s exit={code}")
    assert took < STOP_SECONDS, f"took {took:.1f} s to stop: {proc.text()[-1500:]}"
    assert code == 0, proc.text()[-1500:]
    assert sim.listing_requests == asked, "no request after SIGTERM"
    log = proc.text()
    assert "Traceback" not in log, log[-3000:]
    assert "service.stopped" in log

    engine = db.make_engine(sqlite_url)
    try:
        with db.reading(engine) as conn:
            counts = {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (poll_runs, registrations, registration_events, deliveries)
            }
    finally:
        engine.dispose()
    assert counts == dict.fromkeys(counts, 0), "the interrupted cycle recorded nothing"
