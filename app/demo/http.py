"""The simulator's HTTP plumbing: a threading server, a keep-alive handler, reply helpers."""

from __future__ import annotations

import base64
import json
import logging
import socket
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl

log = logging.getLogger("app.demo.simulator")

Reply = tuple[int, dict[str, str], bytes]


class Handles(Protocol):
    """What the handler asks of the simulator behind the server."""

    def _track(self, conn: socket.socket, add: bool) -> None: ...

    def _handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> Reply | None: ...


class Server(ThreadingHTTPServer):
    daemon_threads = True
    simulator: Handles

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or a stop() closes sockets under a handler: expected here.
        log.debug("simulator.connection_error client=%s", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects from a real API
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: Server

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


def json_reply(status: int, data: object) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def oauth_error(error: str, description: str) -> Reply:
    return json_reply(400, {"error": error, "error_description": description})


def credentials(headers: dict[str, str], body: bytes) -> dict[str, str]:
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
