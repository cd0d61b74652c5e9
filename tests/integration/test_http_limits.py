"""The `run` HTTP server bounds slow and idle clients (issue 22 item 6): a request whose head
keeps dripping is dropped after REQUEST_SECONDS, an idle connection after IDLE_SECONDS (both
made 1 s here), whatever the client keeps sending."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from app.web import server as web_server
from app.web.health import Health, Metrics


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(web_server, "REQUEST_SECONDS", 1)
    monkeypatch.setitem(web_server._ADJUSTMENTS, "channel_timeout", 1)
    health = Health(interval=60)
    running = web_server.serve("127.0.0.1", 0, health, Metrics(health))
    try:
        yield running.server_address[1]
    finally:
        running.shutdown()


def _closed_after(sock: socket.socket, drip: bytes | None, limit: float) -> float:
    """Seconds until the server closes `sock` while `drip` is sent every 0.2 s."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < limit:
        try:
            if drip:
                sock.sendall(drip)
            if sock.recv(1024) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - started
    raise AssertionError(f"still open after {limit} s")


def test_a_request_head_that_keeps_dripping_is_dropped(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        took = _closed_after(sock, b"X-Slow: 1\r\n", limit=6)
    assert 1 <= took < 4


def test_an_idle_connection_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        took = _closed_after(sock, None, limit=6)
    assert took < 4


def test_a_prompt_request_is_answered(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        head = sock.recv(64)
    assert head.startswith(b"HTTP/1.1 200")


def test_a_request_body_is_not_buffered(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        head = b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000\r\n\r\n"
        sock.sendall(head)
        answer = sock.recv(64)
    assert answer.startswith(b"HTTP/1.1 413")
