"""A dead-man's-switch service on 127.0.0.1 (healthchecks.io, Uptime Kuma...): it records every
request it receives and answers with the status it is told to."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class FakeHeartbeat:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[str, str]] = []  # (method, path with query)
        self._seen = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner._seen:
                    owner.requests.append(("GET", self.path))
                    owner._seen.notify_all()
                body = b"OK"
                self.send_response(owner.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def paths(self) -> list[str]:
        with self._seen:
            return [path for _, path in self.requests]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        """The paths once at least `count` requests arrived; AssertionError after `timeout`."""
        with self._seen:
            if not self._seen.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{count} pings expected, got {self.requests}")
            return [path for _, path in self.requests]

    def __enter__(self) -> FakeHeartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
