"""A simulated Flinks on 127.0.0.1 over real HTTP (token endpoint, both listings, scripted
failures), plus demo and benchmark rows. Used by `flinkswatch demo` and by the tests."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import random
import re
import secrets
import socket
import string
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/v1/token"
LISTING_PATH = "/api/v1/recipients/providers/requests"
_RECIPIENT_PATH = re.compile(r"/api/v1/recipients/([^/]+)/providers/requests")
NEXT_STATUS = {"PENDING_APPROVAL": "PENDING_ACTIVATION", "PENDING_ACTIVATION": "ACTIVE"}
RECIPIENTS = ("Alpha Lending", "Beta Payroll", "Gamma Wealth")
PROVIDERS = (
    (2000, "NBC", "CA"), (1000, "Flinks Capital", "CA"), (3100, "RBC", "CA"), (3200, "TD", "CA"),
    (3300, "Desjardins", "CA"), (3400, "BMO", "CA"), (5100, "Chase", "US"),
    (5200, "Wells Fargo", "US"),
)  # fmt: skip
Path = Literal["listing", "token"]
Row = dict[str, Any]
_Reply = tuple[int, dict[str, str], bytes]


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
        self._server: _Server | None = None
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
        server = _Server(("127.0.0.1", 0), _Handler)
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
    ) -> _Reply | None:
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
            return _json(404, {"message": "not found"})
        if method != ("POST" if kind == "token" else "GET"):
            return _json(405, {"message": "method not allowed"})
        if kind == "token":
            return self._token_reply(headers, body)
        return self._listing_reply(headers, match.group(1) if match else None)

    def _token_reply(self, headers: dict[str, str], body: bytes) -> _Reply:
        fields = _credentials(headers, body)
        if fields.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type", "grant_type must be client_credentials")
        if (fields.get("client_id"), fields.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return _oauth_error("invalid_client", "The client credentials are invalid")
        if self.scope is not None and fields.get("scope") != self.scope:
            return _oauth_error("invalid_scope", "The requested scope is invalid")
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self._clock()
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self.expires_in
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        return _json(200, answer)

    def _listing_reply(self, headers: dict[str, str], recipient: str | None) -> _Reply:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            expiry = self._tokens.get(token) if scheme.lower() == "bearer" else None
            if expiry is None or expiry <= self._clock():
                return _json(401, {"message": "Unauthorized"})
            body = self._raw_body if self._raw_body is not None else self._encode(recipient)
        return 200, {"Content-Type": "application/json; charset=utf-8"}, body

    def _encode(self, recipient: str | None) -> bytes:
        # Encoded once per change of rows: the benchmark serves 100,000 rows every cycle.
        if recipient not in self._encoded:
            rows = [r for r in self._rows if recipient is None or r.get("client_id") == recipient]
            self._encoded[recipient] = json.dumps(rows, separators=(",", ":")).encode()
        return self._encoded[recipient]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    simulator: FlinksSimulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or a stop() closes sockets under a handler: expected here.
        log.debug("simulator.connection_error client=%s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects from a real API
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.simulator._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.simulator._track(self.connection, add=False)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.simulator._handle(self.command, self.path, headers, body)
        if reply is None:
            self.close_connection = True
            return
        status, extra, payload = reply
        self.send_response(status)
        extra = {"ob-correlation-id": str(uuid.uuid4()), "ob-trace-id": uuid.uuid4().hex, **extra}
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("simulator.request %s", format % args)


def _json(status: int, data: object) -> _Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def _oauth_error(error: str, description: str) -> _Reply:
    return _json(400, {"error": error, "error_description": description})


def _credentials(headers: dict[str, str], body: bytes) -> dict[str, str]:
    """Token request fields from a JSON or form body, and client credentials from Basic."""
    fields: dict[str, str] = {}
    text = body.decode("utf-8", "replace")
    if "json" in headers.get("content-type", ""):
        data = json.loads(text or "{}")
        fields = (
            {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
        )
    else:
        fields = dict(parse_qsl(text))
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        user, _, password = base64.b64decode(value).decode("utf-8", "replace").partition(":")
        fields |= {"client_id": user, "client_secret": password}
    return fields


# ---- rows -------------------------------------------------------------------------------------


def format_timestamp(when: datetime) -> str:
    """.NET style, as Flinks writes it: 7 fractional digits and Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _client_id(rng: random.Random) -> str:
    return "dc-" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=25))


def _row(recipient: tuple[str, str], provider: tuple[int, str, str], when: datetime) -> Row:
    return {
        "client_id": recipient[0],
        "client_name": recipient[1],
        "provider_id": provider[0],
        "provider_name": provider[1],
        "country": provider[2],
        "registration_status": "PENDING_APPROVAL",
        "requested_on": format_timestamp(when),
    }


def demo_rows(
    n: int = 6, rng: random.Random | None = None, now: datetime | None = None
) -> list[Row]:
    """n realistic registrations, all PENDING_APPROVAL, requested in the last three weeks."""
    rng = rng or random.Random()  # noqa: S311 - demo data
    now = now or datetime.now(UTC)
    recipients = [(_client_id(rng), name) for name in RECIPIENTS]
    pairs = [(r, p) for r in recipients for p in PROVIDERS]
    chosen = rng.sample(pairs, min(n, len(pairs)))
    return [_row(r, p, now - timedelta(days=rng.uniform(1, 21))) for r, p in chosen]


def _new_registration(rows: list[Row], rng: random.Random, now: datetime) -> Row:
    """A registration for a pair not yet listed; a new Data Recipient once every pair is."""
    recipients = {row["client_id"]: row["client_name"] for row in rows}
    taken = {(row["client_id"], row["provider_id"]) for row in rows}
    free = [(r, p) for r in recipients.items() for p in PROVIDERS if (r[0], p[0]) not in taken]
    if not free:
        name = RECIPIENTS[len(recipients) % len(RECIPIENTS)]
        return _row((_client_id(rng), f"{name} {len(recipients) + 1}"), rng.choice(PROVIDERS), now)
    recipient, provider = rng.choice(sorted(free))
    return _row(recipient, provider, now)


def bulk_rows(n: int, seed: int = 0) -> list[Row]:
    """n rows with unique keys (50 providers per recipient), statuses spread; for benchmarks."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    per_recipient = 50
    ids: set[str] = set()
    while len(ids) < math.ceil(n / per_recipient):
        ids.add(_client_id(rng))
    recipients = [(cid, f"Recipient {i:05d}") for i, cid in enumerate(sorted(ids))]
    statuses = ("PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE")
    base = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        pid = 1000 + i % per_recipient
        row = _row(
            recipients[i // per_recipient],
            (pid, f"Bank {pid}", "CA" if pid % 4 else "US"),
            base + timedelta(microseconds=rng.randrange(366 * 86_400_000_000)),
        )
        row["registration_status"] = rng.choice(statuses)
        rows.append(row)
    return rows


def mutate_status(rows: list[Row], fraction: float, rng: random.Random) -> list[Row]:
    """New rows in which `fraction` of all rows (as far as possible) moved one step forward."""
    movable = [i for i, row in enumerate(rows) if row.get("registration_status") in NEXT_STATUS]
    chosen = set(rng.sample(movable, min(len(movable), round(fraction * len(rows)))))
    return [
        {**row, "registration_status": NEXT_STATUS[row["registration_status"]]}
        if i in chosen
        else dict(row)
        for i, row in enumerate(rows)
    ]
