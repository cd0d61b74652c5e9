"""Issue 13: FLINKS_MAX_ANSWER_MB. A larger answer fails the cycle with one clear line (exit 1
from `flinkswatch poll`) and changes nothing; it is refused while it streams in, so an endless
body neither hangs the cycle nor fills the memory. Real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.config.settings import load_settings
from app.demo.simulator import FlinksSimulator, bulk_rows
from app.domain import Outcome
from app.flinks.client import MIB, FlinksBadAnswer, FlinksClient
from app.wiring import build_app

pytestmark = pytest.mark.faults
ROOT = Path(__file__).parents[2]
ID, SECRET = "size-client", "size-secret-value"


def _big_body() -> bytes:
    rows = bulk_rows(8_000, seed=5)  # about 1.5 MiB of JSON
    body = json.dumps(rows).encode()
    assert MIB < len(body) < 3 * MIB
    return body


def test_a_larger_answer_fails_the_cycle_and_changes_nothing(sqlite_url: str) -> None:
    with FlinksSimulator(ID, SECRET, rows=bulk_rows(50, seed=5)) as sim:
        app = build_app(
            load_settings(
                stuck_after="",  # the seeded rows were requested weeks ago: no reminders here
                late_after="",
                database_url=sqlite_url,
                flinks_client_id=ID,
                flinks_client_secret=SECRET,
                flinks_base_url=sim.base_url,
                flinks_token_url=sim.token_url,
                flinks_max_answer_mb=1,
            )
        )
        try:
            assert app.poller.poll_once().outcome is Outcome.OK
            sim.set_raw_body(_big_body())
            refused = app.poller.poll_once()
            assert (refused.outcome, refused.failure_kind) == (Outcome.FAILED, "flinks_bad_answer")
            assert refused.error is not None
            assert refused.error.startswith("Flinks answer is larger than FLINKS_MAX_ANSWER_MB=1")
            assert "\n" not in refused.error
            sim.set_raw_body(None)
            back = app.poller.poll_once()
            assert (back.outcome, back.events) == (Outcome.OK, 0)  # nothing was lost or changed
        finally:
            app.close()


class _Endless(BaseHTTPRequestHandler):
    """A token, then a listing that never ends (chunked, no Content-Length)."""

    def do_POST(self) -> None:
        body = json.dumps({"access_token": "t", "expires_in": 299}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b'{"client_id":"x","provider_id":1},' * 2000
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            self.wfile.write(b"1\r\n[\r\n")
            for _ in range(1_000_000):  # about 70 GB: never read to the end
                self.wfile.write(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def endless() -> Iterator[str]:
    _Endless.protocol_version = "HTTP/1.1"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_endless_answer_is_refused_while_it_streams(endless: str) -> None:
    client = FlinksClient(
        listing_url=endless + "/listing",
        token_url=endless + "/token",
        client_id=ID,
        client_secret=SECRET,
        max_answer_bytes=2 * MIB,
    )
    started = time.monotonic()
    with client, pytest.raises(FlinksBadAnswer, match=r"more than 2,097,152 bytes read"):
        client.fetch()
    assert time.monotonic() - started < 20


def test_poll_exits_1_with_one_line_when_the_answer_is_too_large(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("")
    with FlinksSimulator(ID, SECRET, rows=[]) as sim:
        sim.set_raw_body(_big_body())
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'size.db'}",
            "FLINKS_CLIENT_ID": ID,
            "FLINKS_CLIENT_SECRET": SECRET,
            "FLINKS_BASE_URL": sim.base_url,
            "FLINKS_TOKEN_URL": sim.token_url,
            "FLINKS_MAX_ANSWER_MB": "1",
            "LOG_LEVEL": "ERROR",
        }
        done = subprocess.run(
            [sys.executable, "-m", "app", "poll"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("flinkswatch:")]
    assert lines == [
        "flinkswatch: poll failed: Flinks answer is larger than FLINKS_MAX_ANSWER_MB=1 "
        f"(Content-Length {len(_big_body()):,} bytes): refused before buffering it; raise "
        "FLINKS_MAX_ANSWER_MB if the listing really is this large"
    ]
