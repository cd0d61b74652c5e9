"""The `run` HTTP server: waitress serving the Flask site of app/web/site.py (the probes of
app/web/health.py, and the web page with WEB_UI) in a daemon thread.
`python -m app.web [/path]` (app/web/probe.py) is the container's HEALTHCHECK.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import waitress
from waitress import wasyncore

from app.web.site import create_app

if TYPE_CHECKING:
    from app.web.health import Health, Metrics
    from app.web.slackevents import SlackEvents
    from app.web.ui import WebUI

log = logging.getLogger(__name__)


class HttpServer:
    """waitress serving the Flask site (app/web/site.py) in a daemon thread."""

    def __init__(self, wsgi: Any, host: str, port: int) -> None:
        self._server = waitress.create_server(
            wsgi, host=host, port=port, threads=4, ident="flinkswatch"
        )
        self.server_address = (host, int(self._server.effective_port))
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # waitress's own run() cannot be stopped from another thread without closing sockets
        # under its select(); turning the loop here lets the loop's thread close them itself.
        # A 0.1 s turn keeps shutdown prompt.
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.1, map=self._server._map, count=1)
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
