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
from tests.faults.harness import Launcher, service_env, wait_until
from tests.faults.upstream import seed_rows

pytestmark = pytest.mark.faults

STOP_SECONDS = 5.0  # SPEC: stops cleanly on SIGTERM; deploy/ grants a little more than this


@pytest.fixture
def sim() -> Iterator[FlinksSimulator]:
    rows = seed_rows(5, random.Random(7))
    with FlinksSimulator("fault-client", "fault-secret-value", rows=rows) as simulator:
        yield simulator


def _storm(sim: FlinksSimulator) -> None:
    sim.fail_next(50, 503, b"busy", {"Retry-After": "60"})


def _hang(sim: FlinksSimulator) -> None:
    sim.delay_next(60, n=5)  # the answer never comes within FLINKS_TIMEOUT_SECONDS


UPSTREAM: dict[str, Callable[[FlinksSimulator], None]] = {
    "503 Retry-After 60": _storm,
    "no answer": _hang,
}


@pytest.mark.parametrize("upstream", sorted(UPSTREAM))
def test_sigterm_stops_run_within_seconds_whatever_flinks_does(
    sqlite_url: str, launcher: Launcher, sim: FlinksSimulator, upstream: str
) -> None:
    UPSTREAM[upstream](sim)
    # A 300 s interval: the cycle's Flinks deadline (4 x 30 s) has room for the 60 s wait.
    extra = {"FLINKS_TIMEOUT_SECONDS": "30", "POLL_INTERVAL_SECONDS": "300"}
    env = service_env(sqlite_url, sim.base_url, extra)
    proc = launcher.start(env)
    wait_until(lambda: sim.listing_requests >= 1, 30, "the first listing request")
    time.sleep(0.5)  # inside the retry wait, or the request that hangs
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
