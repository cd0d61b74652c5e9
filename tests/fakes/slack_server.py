"""A fake Slack: Web API (chat.postMessage, chat.update, pins.add, auth.test,
apps.connections.open), incoming webhooks and clicks' response_urls on 127.0.0.1:0.

It checks the bearer token and Slack's block limits like the real one, records every accepted
message, and can be scripted to answer the next requests with 429s, errors, 500s or a dropped
connection. Use it as a context manager; `wait_for(n)` blocks on a Condition, never sleeps.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Received:
    """One message Slack accepted."""

    via: str  # "api" or "webhook"
    path: str
    channel: str | None
    text: str
    blocks: list[dict[str, Any]]
    payload: dict[str, Any]
    at: float  # time.monotonic() on arrival


@dataclass(frozen=True)
class Scripted:
    """The answer to the next request: a status, a JSON or text body, headers, or a hang-up."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without any answer
    record: bool = False  # record the message anyway (Slack took it, the answer was lost)
    normal: bool = False  # answer as Slack would: lets a script say "fine, fine, then fail"


class FakeSlack:
    """`api_url` for SlackBotChannel, `webhook_url` for SlackWebhookChannel."""

    def __init__(self, token: str = "xoxb-fake-token") -> None:  # noqa: S107 - a fake
        self.token = token
        self.app_token = "xapp-1-fake-app-token"
        self.socket_url = ""  # what apps.connections.open answers: a fake Socket Mode server
        self.responses: list[tuple[str, dict[str, Any]]] = []  # POSTs to response_url
        self.received: list[Received] = []
        self.requests: list[str] = []  # every request path, in arrival order
        self.updates: list[Received] = []  # chat.update calls Slack accepted
        self.pins: list[tuple[str, str]] = []  # (channel, ts) pinned
        self.pin_error: str | None = None  # e.g. "missing_scope": pins.add answers it
        self.deleted: set[str] = set()  # ts of messages deleted: chat.update -> message_not_found
        self.posted: dict[str, str] = {}  # ts -> channel of every message posted
        self._script: deque[Scripted] = deque()
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ---- lifecycle ---------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "1") -> str:
        """A click's response_url: what is POSTed there is kept in `responses`."""
        return f"{self.base_url}/response/{name}"

    def wait_for_responses(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.responses) >= count, timeout):
                raise AssertionError(f"{len(self.responses)} responses, wanted {count}")
            return [body for _, body in self.responses]

    def _respond(self, path: str, payload: dict[str, Any]) -> None:
        with self._cond:
            self.responses.append((path, payload))
            self._cond.notify_all()

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhook/T000/B000/s3cr3tWebhookPart"

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ---- scripting ---------------------------------------------------------------------
    def enqueue(self, *answers: Scripted) -> None:
        with self._cond:
            self._script.extend(answers)

    def rate_limit(self, retry_after: int = 3, webhook: bool = False) -> None:
        body: dict[str, Any] | str = (
            "rate_limited" if webhook else {"ok": False, "error": "ratelimited"}
        )
        self.enqueue(Scripted(429, body, {"Retry-After": str(retry_after)}))

    def api_error(self, error: str) -> None:
        self.enqueue(Scripted(200, {"ok": False, "error": error}))

    def http_error(self, status: int, body: str = "<html>oops</html>") -> None:
        self.enqueue(Scripted(status, body))

    def drop_connection(self, record: bool = False) -> None:
        self.enqueue(Scripted(drop=True, record=record))

    def let_through(self, count: int) -> None:
        """Let the next `count` requests through normally (before what is queued after)."""
        self.enqueue(*(Scripted(normal=True) for _ in range(count)))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until at least `count` messages were accepted; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(
                    f"fake Slack got {len(self.received)} messages, wanted {count}"
                )
            return list(self.received)

    # ---- request handling (server threads) ---------------------------------------------
    def _next_script(self) -> Scripted | None:
        with self._cond:
            return self._script.popleft() if self._script else None

    def _record(self, message: Received) -> None:
        with self._cond:
            self.received.append(message)
            self._cond.notify_all()

    def _post(self, message: Received) -> str:
        with self._cond:
            ts = f"{time.time():.6f}"
            while ts in self.posted:  # unique even within a microsecond
                ts = f"{float(ts) + 0.000001:.6f}"
            self.posted[ts] = str(message.channel)
        self._record(message)
        return ts

    def _edit(self, method: str, payload: dict[str, Any], path: str) -> dict[str, Any]:
        """chat.update and pins.add of a message posted here (`timestamp` for pins.add)."""
        ts = str(payload.get("ts") or payload.get("timestamp") or "")
        with self._cond:
            if ts not in self.posted or ts in self.deleted:
                return {"ok": False, "error": "message_not_found"}
            if self.posted[ts] != payload.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            if method == "pins.add":
                if self.pin_error or (payload["channel"], ts) in self.pins:
                    return {"ok": False, "error": self.pin_error or "already_pinned"}
                self.pins.append((payload["channel"], ts))
            else:
                self.updates.append(_received(path, payload))
            self._cond.notify_all()
        return {"ok": True, "channel": payload["channel"], "ts": ts}

    def _note(self, path: str) -> None:
        with self._cond:
            self.requests.append(path)


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = _parse(self.headers.get("Content-Type", ""), self.rfile.read(length))
            fake._note(self.path)
            scripted = fake._next_script()
            if scripted is not None and not scripted.normal:
                if scripted.record:
                    fake._record(_received(self.path, payload))
                if scripted.drop:
                    self.close_connection = True
                    return
                self._answer(scripted.status, scripted.body, scripted.headers)
                return
            if self.path.startswith("/response/"):
                fake._respond(self.path, payload)
                self._answer(200, "ok")
            elif self.path.startswith("/webhook/"):
                self._webhook(payload)
            elif self.path.startswith("/api/"):
                self._api(self.path.removeprefix("/api/").split("?")[0], payload)
            else:
                self._answer(404, "not_found")

        def _api(self, method: str, payload: dict[str, Any]) -> None:
            if method == "apps.connections.open":
                ok = self.headers.get("Authorization") == f"Bearer {fake.app_token}"
                body = {"ok": True, "url": fake.socket_url} if ok else {"ok": False}
                self._answer(200, body if ok else {**body, "error": "invalid_auth"})
            elif self.headers.get("Authorization") != f"Bearer {fake.token}":
                self._answer(200, {"ok": False, "error": "invalid_auth"})
            elif method == "auth.test":
                body = {
                    "ok": True,
                    "team": "Fake Team",
                    "user": "flinkswatch",
                    "team_id": "T000",
                    "user_id": "U000",
                    "url": "https://fake.slack.com/",
                }
                self._answer(200, body)
            elif method == "chat.postMessage":
                error = _limits_error(payload)
                if error:
                    self._answer(200, {"ok": False, "error": error})
                    return
                message = _received(self.path, payload)
                ts = fake._post(message)
                self._answer(200, {"ok": True, "channel": message.channel, "ts": ts})
            elif method in ("chat.update", "pins.add"):
                self._answer(200, fake._edit(method, payload, self.path))
            else:
                self._answer(200, {"ok": False, "error": "unknown_method"})

        def _webhook(self, payload: dict[str, Any]) -> None:
            error = _limits_error(payload)
            if error:
                self._answer(400, error)
                return
            fake._record(_received(self.path, payload))
            self._answer(200, "ok")

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            is_json = isinstance(body, dict)
            data = (json.dumps(body) if is_json else str(body or "")).encode()
            self.send_response(status)
            content_type = "application/json; charset=utf-8" if is_json else "text/plain"
            headers = {"Content-Type": content_type} | (headers or {})  # a script may override
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _parse(content_type: str, raw: bytes) -> dict[str, Any]:
    """slack-sdk sends chat.postMessage as JSON and auth.test as a form; accept both."""
    if "json" in content_type:
        parsed = json.loads(raw or b"{}")
        return parsed if isinstance(parsed, dict) else {}
    form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
    if isinstance(form.get("blocks"), str):
        form["blocks"] = json.loads(form["blocks"])
    return form


def _received(path: str, payload: dict[str, Any]) -> Received:
    return Received(
        via="webhook" if path.startswith("/webhook/") else "api",
        path=path,
        channel=payload.get("channel"),
        text=str(payload.get("text", "")),
        blocks=list(payload.get("blocks") or []),
        payload=payload,
        at=time.monotonic(),
    )


def _limits_error(payload: dict[str, Any]) -> str | None:
    """The checks Slack applies that an alert could trip (docs.slack.dev block reference)."""
    blocks = payload.get("blocks") or []
    if not payload.get("text") and not blocks:
        return "no_text"
    if len(str(payload.get("text", ""))) > 40000:
        return "msg_too_long"
    if len(blocks) > 50:
        return "invalid_blocks"
    total = sum(len((block.get("text") or {}).get("text", "")) for block in blocks)
    if total > 13000:  # undocumented, seen in the field (slackapi/bolt-js#2509)
        return "msg_blocks_too_long"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "header" and len(text) > 150:
            return "invalid_blocks"
        if block.get("type") == "section" and len(text) > 3000:
            return "invalid_blocks"
    return None
