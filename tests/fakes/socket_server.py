"""A fake Slack Socket Mode server on 127.0.0.1:0 (the `websockets` package's): each connection
gets `{"type": "hello"}`, then the envelopes queued with `send`; every envelope acknowledgement
the client sends back is kept, by envelope_id. `drop()` closes the current connection (the
client must reconnect through apps.connections.open). Waits are on a Condition, never sleeps."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from types import TracebackType
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id -> what the client answered
        self.connections = 0
        self._outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._cond = threading.Condition()
        self._drop = threading.Event()
        self._closing = threading.Event()
        self._server: Server = serve(self._serve, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/"

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing.set()
        self._server.shutdown()
        self._thread.join(timeout=5)

    def send(self, envelope: dict[str, Any]) -> None:
        self._outbox.put(envelope)

    def drop(self) -> None:
        self._drop.set()

    def wait_connected(self, count: int = 1, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.connections >= count, timeout):
                raise AssertionError(f"{self.connections} connections, wanted {count}")

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} not acknowledged")
            return self.acks[envelope_id]

    def _serve(self, ws: ServerConnection) -> None:
        with self._cond:
            self.connections += 1
            self._cond.notify_all()
        ws.send(json.dumps({"type": "hello", "num_connections": 1}))
        try:
            while not self._drop.is_set() and not self._closing.is_set():
                with contextlib.suppress(queue.Empty):
                    ws.send(json.dumps(self._outbox.get(timeout=0.02)))
                with contextlib.suppress(TimeoutError):
                    self._keep(ws.recv(timeout=0.02))
        except ConnectionClosed:
            return
        self._drop.clear()
        ws.close()

    def _keep(self, raw: str | bytes) -> None:
        message = json.loads(raw)
        if isinstance(message, dict) and "envelope_id" in message:
            with self._cond:
                self.acks[message["envelope_id"]] = message
                self._cond.notify_all()
