"""A bounded slow-client script: `count` connections to 127.0.0.1:port, each sending the head of
a request one header line at a time and never finishing it; a connection the server closes is
opened again, so the server stays at its limit for as long as the script runs."""

from __future__ import annotations

import socket
import threading
import time


class SlowClients:
    def __init__(self, port: int, count: int, every: float = 1.0) -> None:
        self.port, self.count, self.every = port, count, every
        self.opened = 0  # connections opened, reconnections included
        self.closed_by_server = 0
        self._socks: list[socket.socket | None] = [None] * count
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="slow-clients", daemon=True)

    def __enter__(self) -> SlowClients:
        for i in range(self.count):
            self._socks[i] = self._open()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._halt.set()
        self._thread.join(timeout=10)
        for sock in self._socks:
            if sock is not None:
                sock.close()

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            return None  # the backlog is full for now: tried again on the next turn
        self.opened += 1
        return sock

    def _loop(self) -> None:
        while not self._halt.wait(self.every):
            for i, sock in enumerate(self._socks):
                if self._halt.is_set():
                    return
                if sock is not None and self._send_line(sock):
                    continue
                if sock is not None:
                    self.closed_by_server += 1
                    sock.close()
                self._socks[i] = self._open()

    @staticmethod
    def _send_line(sock: socket.socket) -> bool:
        try:
            sock.sendall(b"X-Slow: %d\r\n" % int(time.monotonic()))
            sock.setblocking(False)
            try:
                if sock.recv(1) == b"":
                    return False  # closed by the server
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
                sock.settimeout(2)
        except OSError:
            return False
        return True
