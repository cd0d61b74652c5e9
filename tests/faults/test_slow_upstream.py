"""Issue 22 item 5 against a real `flinkswatch run`: a listing that drips one byte at a time
(no single read ever times out) fails each cycle at its overall deadline, with one line; the
blind alert goes out after BLIND_AFTER_FAILURES such cycles; SIGTERM still stops the process
within seconds while an answer is dripping."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from tests.fakes.drip import DripHttp, Reply
from tests.fakes.slack_server import FakeSlack
from tests.faults.harness import Launcher, service_env, wait_until

pytestmark = pytest.mark.faults

TOKEN = json.dumps({"access_token": "tok-drip", "expires_in": 299}).encode()
# FLINKS_TIMEOUT_SECONDS=1, POLL_INTERVAL_SECONDS=2: the deadline is min(4 x 1, 2) = 2 s.
DEADLINE_SECONDS = 2
STOP_SECONDS = 5.0


def _route(_method: str, path: str) -> Reply:
    if path.endswith("/token"):
        return Reply(body=TOKEN)
    return Reply(body=b"[" + b" " * 1000 + b"]", drip="body")


@pytest.fixture
def flinks() -> Iterator[DripHttp]:
    with DripHttp(_route, every=0.2, limit=60) as server:
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _blind(slack: FakeSlack) -> bool:
    return any("is blind" in m.blocks[0]["text"]["text"] for m in slack.received)


def test_a_dripping_listing_fails_at_the_deadline_and_the_watcher_says_it_is_blind(
    sqlite_url: str, launcher: Launcher, flinks: DripHttp, slack: FakeSlack
) -> None:
    env = service_env(
        sqlite_url,
        flinks.url,
        {
            "FLINKS_TIMEOUT_SECONDS": "1",
            "POLL_INTERVAL_SECONDS": "2",
            "BLIND_AFTER_FAILURES": "2",
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_CHANNEL": "C0SLOW",
            "SLACK_API_URL": slack.api_url,
        },
    )
    started = time.monotonic()
    proc = launcher.start(env)
    wait_until(lambda: _blind(slack), 30, "the blind alert")
    took = time.monotonic() - started
    log = proc.text()
    failed = re.findall(r"poll\.done outcome=failed .*duration_ms=(\d+) error='([^']*)'", log)
    print(f"\nfaults: dripping listing, blind alert after {took:.1f}s, failed cycles={len(failed)}")
    assert len(failed) >= 2, log[-3000:]
    for duration_ms, error in failed:
        assert f"did not finish within the {DEADLINE_SECONDS} s deadline" in error
        assert int(duration_ms) < (DEADLINE_SECONDS + 2) * 1000

    wait_until(lambda: flinks.connections > len(failed) + 1, 10, "a listing dripping again")
    stop = time.monotonic()
    proc.popen.terminate()
    code = proc.popen.wait(timeout=60)
    assert time.monotonic() - stop < STOP_SECONDS
    assert code == 0
    assert "Traceback" not in proc.text()
