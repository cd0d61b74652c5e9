"""Servers on 127.0.0.1 that answer, but slowly: one byte every `every` seconds, so no single
read ever times out (issue 22 item 5). `DripHttp` answers each request from a `route` (path ->
reply), dripping the head or the body; `DripSmtp` drips an endless SMTP greeting. Each drip
stops after `limit` seconds or when the client goes, so a test that fails does not hang."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    drip: str = "none"  # "none", "head" (from the status line on) or "body"
    length: int | None = None  # the Content-Length to announce (default: len(body))


class _DripServer:
    """Accepts connections in a thread, serves each in its own thread."""

    def __init__(self, every: float, limit: float) -> None:
        self.every, self.limit = every, limit
        self.connections = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="drip", daemon=True)

    def __enter__(self) -> _DripServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._halt.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _accept(self) -> None:
        while not self._halt.is_set():
            try:
                conn, _addr = self._sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the client went away: the point of it
            self.serve(conn)

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def drip(self, conn: socket.socket, data: bytes, forever: bytes = b"") -> None:
        """`data`, then `forever` repeated, a byte at a time, until the limit or the client goes."""
        ends = time.monotonic() + self.limit
        stream = iter(data)
        while time.monotonic() < ends and not self._halt.is_set():
            byte = next(stream, None)
            if byte is None:
                if not forever:
                    return
                stream = iter(forever)
                continue
            conn.sendall(bytes([byte]))
            time.sleep(self.every)  # the drip's pace is the behaviour under test


class DripHttp(_DripServer):
    """HTTP/1.1 on 127.0.0.1: `route(method, path)` -> Reply; records the paths asked."""

    def __init__(
        self, route: Callable[[str, str], Reply], every: float = 0.2, limit: float = 20.0
    ) -> None:
        super().__init__(every, limit)
        self.route = route
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        method, path = data.split(b" ", 2)[:2]
        self.paths.append(path.decode())
        reply = self.route(method.decode(), path.decode())
        length = len(reply.body) if reply.length is None else reply.length
        head = (
            f"HTTP/1.1 {reply.status} X\r\nContent-Type: {reply.content_type}\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
        ).encode()
        if reply.drip == "head":
            self.drip(conn, head, forever=b"X-Slow: 1\r\n")
        elif reply.drip == "body":
            conn.sendall(head)
            self.drip(conn, reply.body, forever=b" ")
        else:
            conn.sendall(head + reply.body)


class DripSmtp(_DripServer):
    """An SMTP server whose greeting never ends: `220-` lines, one byte at a time."""

    def serve(self, conn: socket.socket) -> None:
        self.drip(conn, b"", forever=b"220-slow.example ESMTP\r\n")
