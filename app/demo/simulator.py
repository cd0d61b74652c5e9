"""A simulated Flinks on 127.0.0.1 over real HTTP (token endpoint, both listings, scripted
failures). Used by `flinkswatch demo`, the benchmark and the tests; its rows: app.demo.rows."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

from app.demo.http import Handler, Reply, Server, credentials, json_reply, oauth_error
from app.demo.rows import (
    NEXT_STATUS,
    Row,
    _new_registration,
    bulk_rows,
    demo_rows,
    format_timestamp,
    mutate_status,
)

__all__ = [
    "LISTING_PATH",
    "TOKEN_PATH",
    "FlinksSimulator",
    "RecordedRequest",
    "Row",
    "bulk_rows",
    "demo_rows",
    "format_timestamp",
    "mutate_status",
]

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/v1/token"
LISTING_PATH = "/api/v1/recipients/providers/requests"
_RECIPIENT_PATH = re.compile(r"/api/v1/recipients/([^/]+)/providers/requests")
Path = Literal["listing", "token"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator saw it (header names lower-cased); for test assertions."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Failure:
    status: int  # 0: drop the connection without answering
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FlinksSimulator:
    """Thread-safe scriptable Flinks. Rows are served as given (raw dicts, pre-encoded once)."""

    def __init__(
        self,
        client_id: str = "demo-client",
        client_secret: str = "demo-secret",  # noqa: S107 - the simulator's own fake credential
        rows: list[Row] | None = None,
        expires_in: int = 299,
        scope: str | None = "client:admin",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.scope = scope  # None accepts any scope
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: list[Row] = [dict(row) for row in rows or []]
        self._raw_body: bytes | None = None
        self._encoded: dict[str | None, bytes] = {}
        self._tokens: dict[str, float] = {}
        self._failures: dict[str, deque[_Failure]] = {"token": deque(), "listing": deque()}
        self._delays: dict[str, deque[float]] = {"token": deque(), "listing": deque()}
        self._rng = random.Random()  # noqa: S311 - demo data, not security
        self.token_requests = 0
        self.listing_requests = 0
        self.requests: deque[RecordedRequest] = deque(maxlen=1000)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()

    @classmethod
    def demo(cls, seed: int | None = None) -> FlinksSimulator:
        """A simulator with a few pending registrations; `advance()` moves them along."""
        rng = random.Random(seed)  # noqa: S311 - demo data
        sim = cls(rows=demo_rows(rng=rng))
        sim._rng = rng
        return sim

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FlinksSimulator:
        server = Server(("127.0.0.1", 0), Handler)
        server.simulator = self
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="flinks-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes handlers waiting in delay_next
        server.shutdown()
        with self._lock:
            # Kept-alive connections would otherwise still be served after stop().
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FlinksSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FlinksSimulator is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    def listing_url(self, recipient_id: str = "") -> str:
        if recipient_id:
            return f"{self.base_url}/api/v1/recipients/{recipient_id}/providers/requests"
        return self.base_url + LISTING_PATH

    # ---- scripting ----------------------------------------------------------------------------
    @property
    def rows(self) -> list[Row]:
        with self._lock:
            return [dict(row) for row in self._rows]

    def set_rows(self, rows: list[Row]) -> None:
        with self._lock:
            self._rows = [dict(row) for row in rows]
            self._encoded.clear()

    def set_raw_body(self, body: bytes | None) -> None:
        """Serve these bytes (with 200) instead of the rows, until called with None."""
        with self._lock:
            self._raw_body = body

    def fail_next(
        self,
        n: int,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        path: Path = "listing",
    ) -> None:
        """Answer the next n requests to `path` with `status` (0 drops the connection)."""
        with self._lock:
            self._failures[path].extend(_Failure(status, body, headers or {}) for _ in range(n))

    def delay_next(self, seconds: float, n: int = 1, path: Path = "listing") -> None:
        with self._lock:
            self._delays[path].extend([seconds] * n)

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def advance(self, rng: random.Random | None = None) -> None:
        """Move one or two registrations one step forward; sometimes add a new one."""
        rng = rng or self._rng
        with self._lock:
            rows = self._rows
            movable = [row for row in rows if row.get("registration_status") in NEXT_STATUS]
            for row in rng.sample(movable, min(len(movable), rng.randint(1, 2))):
                row["registration_status"] = NEXT_STATUS[row["registration_status"]]
            if not movable or rng.random() < 0.3:
                rows.append(_new_registration(rows, rng, datetime.now(UTC)))
            self._encoded.clear()

    # ---- serving ------------------------------------------------------------------------------
    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Reply | None:
        path = urlsplit(target).path
        match = _RECIPIENT_PATH.fullmatch(path)
        kind = "token" if path == TOKEN_PATH else "listing" if path == LISTING_PATH or match else ""
        with self._lock:
            self.requests.append(RecordedRequest(method, path, headers, body))
            self.token_requests += kind == "token"
            self.listing_requests += kind == "listing"
            failure = self._failures[kind].popleft() if self._failures.get(kind) else None
            delay = self._delays[kind].popleft() if self._delays.get(kind) else 0.0
        if delay:
            self._stopping.wait(delay)
        if failure is not None:
            return None if failure.status == 0 else (failure.status, failure.headers, failure.body)
        if not kind:
            return json_reply(404, {"message": "not found"})
        if method != ("POST" if kind == "token" else "GET"):
            return json_reply(405, {"message": "method not allowed"})
        if kind == "token":
            return self._token_reply(headers, body)
        return self._listing_reply(headers, match.group(1) if match else None)

    def _token_reply(self, headers: dict[str, str], body: bytes) -> Reply:
        fields = credentials(headers, body)
        if fields.get("grant_type") != "client_credentials":
            return oauth_error("unsupported_grant_type", "grant_type must be client_credentials")
        if (fields.get("client_id"), fields.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return oauth_error("invalid_client", "The client credentials are invalid")
        if self.scope is not None and fields.get("scope") != self.scope:
            return oauth_error("invalid_scope", "The requested scope is invalid")
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self._clock()
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self.expires_in
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        return json_reply(200, answer)

    def _listing_reply(self, headers: dict[str, str], recipient: str | None) -> Reply:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            expiry = self._tokens.get(token) if scheme.lower() == "bearer" else None
            if expiry is None or expiry <= self._clock():
                return json_reply(401, {"message": "Unauthorized"})
            body = self._raw_body if self._raw_body is not None else self._encode(recipient)
        return 200, {"Content-Type": "application/json; charset=utf-8"}, body

    def _encode(self, recipient: str | None) -> bytes:
        # Encoded once per change of rows: the benchmark serves 100,000 rows every cycle.
        if recipient not in self._encoded:
            rows = [r for r in self._rows if recipient is None or r.get("client_id") == recipient]
            self._encoded[recipient] = json.dumps(rows, separators=(",", ":")).encode()
        return self._encoded[recipient]
