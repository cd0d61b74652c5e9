"""A fake HTTP receiver on 127.0.0.1:0 for Apprise's json:// and form:// schemes and for signed
webhooks: it records every request (path, headers, raw body) and can be scripted to answer the
next requests with a status (500, 429 with Retry-After, 410...), a redirect, or a hang. With a
`verify` callable (e.g. standardwebhooks' Webhook.verify), a request that fails it gets 401.
Use it as a context manager; `wait_for(n)` blocks on a Condition, never sleeps."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    accepted: bool  # answered 2xx

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (until the receiver stops)


class Receiver:
    def __init__(self, verify: Callable[[bytes, dict[str, str]], object] | None = None) -> None:
        self.requests: list[Request] = []
        self.verify = verify
        self.verify_errors: list[str] = []
        self._script: deque[Answer] = deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}{path}"

    @property
    def accepted(self) -> list[Request]:
        with self._cond:
            return [r for r in self.requests if r.accepted]

    def then(self, *answers: Answer) -> None:
        with self._cond:
            self._script.extend(answers)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Request]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} requests arrived, wanted {count}")
            return list(self.requests)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._cond:
            answer = self._script.popleft() if self._script else Answer()
            if self.verify is not None and not answer.hang and answer.status < 300:
                try:
                    self.verify(body, headers)
                except Exception as exc:  # noqa: BLE001 - any refusal is a 401, kept for the test
                    self.verify_errors.append(f"{type(exc).__name__}: {exc}")
                    answer = Answer(401)
            accepted = 200 <= answer.status < 300 and not answer.hang
            self.requests.append(Request(path, headers, body, accepted))
            self._cond.notify_all()
            return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._serve(self.rfile.read(length))

            def _serve(self, body: bytes) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = receiver._answer(self.path, headers, body)
                if answer.hang:
                    receiver._stop.wait(30)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        return Handler
