"""Overall deadlines for outbound calls (docs/operations.md, "Deadlines and limits").

A library's timeout bounds each connect, read and write, not the call: a server that drips one
byte a second holds a Flinks listing, a Slack post, an SMTP conversation or a heartbeat ping for
as long as it likes. Inside `deadline(seconds)`, every socket the calling thread opens is shut
down when the time is up, so the blocked read or write returns at once and the library raises
its usual network error; the caller reads `expired` to say why in one line. Sockets are found
through the interpreter's audit hook for socket creation (TLS-wrapped ones included), so this
works the same under httpx, urllib (slack-sdk) and smtplib.
"""

from __future__ import annotations

import _socket
import contextlib
import socket
import sys
import threading
import time
import weakref
from collections.abc import Iterator

from app.delivery import DeliveryFailure

# One call's deadline is this many times the per-operation timeout of its setting: room for a
# connect and a slow answer, not for an answer that never ends.
CALL_FACTOR = 2
# One cycle's Flinks requests (token, listing, a renewal, the retries and their waits).
FLINKS_FACTOR = 4

_local = threading.local()
_hooked = threading.Lock()
_installed = False


def flinks_seconds(timeout: float, interval: float) -> float:
    """The deadline of one cycle's Flinks requests: FLINKS_FACTOR times FLINKS_TIMEOUT_SECONDS, no
    longer than POLL_INTERVAL_SECONDS (a cycle should not outlast its interval), but never
    shorter than FLINKS_TIMEOUT_SECONDS (one request must be possible)."""
    return max(timeout, min(FLINKS_FACTOR * timeout, interval))


def call_seconds(timeout: float) -> float:
    """The deadline of one channel call (a Slack post, an email, a ping)."""
    return CALL_FACTOR * timeout


class Deadline:
    """The time left for one call, and the sockets it opened."""

    def __init__(self, seconds: float, parent: Deadline | None = None) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.parent = parent
        self.expired = False
        self._sockets: list[weakref.ref[socket.socket]] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def track(self, sock: socket.socket) -> None:
        """Shut `sock` down when the time is up (at once if it already is)."""
        with self._lock:
            late = self.expired
            if not late:
                self._sockets.append(weakref.ref(sock))
        if late:
            _shut(sock)
        if self.parent is not None:
            self.parent.track(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for ref in sockets:
            sock = ref()
            if sock is not None:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The C-level shutdown: on a TLS socket, SSLSocket.shutdown would also drop its SSL object
    # under the thread reading it. A closed or detached socket has no descriptor: skipped.
    if sock.fileno() == -1:
        return
    with contextlib.suppress(OSError):
        _socket.socket.shutdown(sock, socket.SHUT_RDWR)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Shut down every socket opened in this thread inside the block after `seconds`; a nested
    deadline ends no later than the one around it."""
    _install()
    parent: Deadline | None = getattr(_local, "current", None)
    if parent is not None:
        seconds = min(seconds, parent.remaining())
    scope = Deadline(seconds, parent)
    _local.current = scope
    scope._timer.start()
    try:
        yield scope
    finally:
        scope._timer.cancel()
        _local.current = parent


def current() -> Deadline | None:
    """The innermost deadline of this thread, if any."""
    scope: Deadline | None = getattr(_local, "current", None)
    return scope


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.__new__":
        scope = getattr(_local, "current", None)
        if scope is not None and isinstance(args[0], socket.socket):
            scope.track(args[0])


def _install() -> None:
    # An audit hook cannot be removed: installed once, it costs a string compare per event.
    global _installed  # once per process
    with _hooked:
        if not _installed:
            sys.addaudithook(_audit)
            _installed = True


@contextlib.contextmanager
def channel_call(seconds: float, what: str, setting: str) -> Iterator[Deadline]:
    """A channel call within `seconds`: a DeliveryFailure raised once they are spent (whatever
    the cut-short answer looked like) becomes the transient `too_slow` failure."""
    with deadline(seconds) as scope:
        try:
            yield scope
        except DeliveryFailure:
            if scope.expired:
                raise too_slow(what, scope, setting) from None
            raise


def too_slow(what: str, scope: Deadline, setting: str) -> DeliveryFailure:
    """The transient failure of a channel call its deadline cut short."""
    return DeliveryFailure(
        f"{what} too slow: no complete answer within the {scope.seconds:g} s deadline"
        f" ({CALL_FACTOR} x {setting}); retried later",
        permanent=False,
    )
