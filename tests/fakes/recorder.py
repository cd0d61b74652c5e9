"""An HTTP server on 127.0.0.1 that records every request reaching it (method, path, headers,
body) and answers from a table of paths: a 302 to another server, an echo of the request's
headers in an error body (an upstream quoting our credentials back), or a plain answer.

`Recorder()` alone is the "other host" of the redirect tests: whatever reaches it is a leak."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def redirect(location: str, status: int = 302) -> Callable[[Request], Answer]:
    return lambda _request: (status, {"Location": location}, b"")


def answer(status: int, data: object) -> Callable[[Request], Answer]:
    body = json.dumps(data).encode()
    return lambda _request: (status, {"Content-Type": "application/json"}, body)


class Recorder:
    def __init__(self, routes: dict[str, Callable[[Request], Answer]] | None = None) -> None:
        self.routes = routes or {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request(self.command, self.path, dict(self.headers.items()), body)
                with owner._lock:
                    owner.requests.append(request)
                route = owner.routes.get(self.path.split("?")[0])
                status, headers, data = route(request) if route else (200, {}, b'{"ok": true}')
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def received(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def __enter__(self) -> Recorder:
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


class EchoingFlinks(Recorder):
    """A Flinks whose token endpoint hands out `tok-19-<random>` tokens and whose listing
    refuses every request with a 400 quoting the request's headers back, and the bare token."""

    TOKEN_PATH = "/api/v1/token"
    LISTING_PATH = "/api/v1/recipients/providers/requests"

    def __init__(self) -> None:
        self.tokens: list[str] = []
        super().__init__({self.TOKEN_PATH: self._token, self.LISTING_PATH: self._echo})

    def _token(self, _request: Request) -> Answer:
        token = f"tok-19-{secrets.token_hex(6)}"
        self.tokens.append(token)
        return answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": 299})(
            _request
        )

    def _echo(self, request: Request) -> Answer:
        authorization = request.headers.get("Authorization", "")
        bare = authorization.partition(" ")[2]
        data = {"error": f"rejected {bare}", "received": {"authorization": authorization}}
        return answer(400, data)(request)
