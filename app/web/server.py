"""The `run` HTTP server: waitress serving the Flask site of app/web/site.py (the probes of
app/web/health.py, and the web page with WEB_UI) in a daemon thread.
`python -m app.web [/path]` (app/web/probe.py) is the container's HEALTHCHECK.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

from app.web.site import create_app

if TYPE_CHECKING:
    from app.web.health import Health, Metrics
    from app.web.slackevents import SlackEvents
    from app.web.ui import WebUI

log = logging.getLogger(__name__)

# Slow and idle clients (docs/operations.md, "Limits"): a probe must get in whatever else is
# connected. waitress alone stops accepting at its connection limit, and closes only idle
# connections, so 100 clients sending a header line every few seconds shut the probes out.
REQUEST_SECONDS = 10  # a request's head (GET only: no body) must arrive within this
IDLE_SECONDS = 15  # a kept-alive connection with no request is closed after this
CONNECTION_LIMIT = 200  # open connections; at the limit the longest-waiting one gives way
_ADJUSTMENTS = {
    "threads": 4,
    "ident": "flinkswatch",
    "connection_limit": CONNECTION_LIMIT,
    "channel_timeout": IDLE_SECONDS,
    "cleanup_interval": 1,  # how often the two timeouts are checked
    "asyncore_use_poll": True,  # select() cannot watch a descriptor above 1023
    # Every route is GET: a body is never read, so none is buffered (waitress' default: 1 GB,
    # spooled to disk); a larger one is refused with 413 before it is stored.
    "max_request_body_size": 64 * 1024,
}


class _Channel(HTTPChannel):  # type: ignore[misc] # waitress is untyped
    """A connection that remembers when the request it is still reading began."""

    request_began = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None:
            self.request_began = time.time()  # waitress keeps time.time()
        return bool(super().received(data))


class _Server(TcpWSGIServer):  # type: ignore[misc] # waitress is untyped
    """waitress' server, bounding slow clients: a request not fully received within
    REQUEST_SECONDS is dropped, and at the connection limit the connection that has waited
    longest without a request being served is closed to let a new one in."""

    channel_class = _Channel
    _limit_logged = 0.0
    next_channel_cleanup: float  # waitress: when maintenance() runs next

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections (channel_timeout)
        cutoff = now - REQUEST_SECONDS
        for channel in list(self.active_channels.values()):
            if channel.request is not None and channel.request_began < cutoff:
                channel.will_close = True  # the loop closes it on its next turn

    def readable(self) -> bool:
        """waitress' own, except at the connection limit: it stops accepting there (and logs
        each time it does); here the longest-waiting connection is closed instead."""
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        if len(self._map) < self.adj.connection_limit:
            return True
        self._make_room(now)
        return False  # accepted on the next turn, once the closed one is gone

    def _make_room(self, now: float) -> None:
        channels = list(self.active_channels.values())
        if any(channel.will_close and not channel.total_outbufs_len for channel in channels):
            return  # room is already being made (one with output left may wait for its reader)
        waiting = [channel for channel in channels if not channel.requests]
        if not waiting:
            return  # every connection is being served: wait for one to finish
        min(waiting, key=_waiting_since).will_close = True
        if now - self._limit_logged > 60:  # one line a minute, not one per connection
            self._limit_logged = now
            log.warning(
                "http.connection_limit limit=%d action=closed_oldest_waiting",
                self.adj.connection_limit,
            )


def _waiting_since(channel: _Channel) -> float:
    return channel.request_began if channel.request is not None else channel.last_activity


def _bounded_server(wsgi: Any, host: str, port: int) -> _Server:
    return _Server(wsgi, adj=Adjustments(host=host, port=port, **_ADJUSTMENTS))


class HttpServer:
    """waitress serving the Flask site (app/web/site.py) in a daemon thread."""

    def __init__(self, wsgi: Any, host: str, port: int) -> None:
        self._server = _bounded_server(wsgi, host, port)
        self.server_address = (host, int(self._server.effective_port))
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # waitress's own run() cannot be stopped from another thread without closing sockets
        # under its select(); turning the loop here lets the loop's thread close them itself.
        # A 0.1 s turn keeps shutdown prompt.
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.1, map=self._server._map, use_poll=True, count=1)
        self._server.close()  # its listening socket and every open connection

    def shutdown(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def server_close(self) -> None:
        """Kept for the callers of the former http.server server; shutdown() closed it."""


def serve(
    host: str,
    port: int,
    health: Health,
    metrics: Metrics,
    ui: WebUI | None = None,
    slack: SlackEvents | None = None,
) -> HttpServer:
    """Start the HTTP server in a daemon thread; OSError if the address is unusable."""
    server = HttpServer(create_app(health, metrics, ui, slack), host, port)
    log.info(
        "http.listening host=%s port=%d web_ui=%s",
        host,
        server.server_address[1],
        "on" if ui else "off",
    )
    return server
