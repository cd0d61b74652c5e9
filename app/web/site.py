"""The Flask application of the `run` HTTP server: /healthz, /readyz and /metrics (open, for
probes) and, with WEB_UI, the read-only pages of app/web/pages.py behind WEB_AUTH."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, Response, request
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from app.web.access import OPEN_PATHS, SLACK_EVENTS_PATH, Access

if TYPE_CHECKING:
    from app.web.health import Health, Metrics
    from app.web.slackevents import SlackEvents
    from app.web.ui import WebUI

# No inline script nor style anywhere: the pages run no script at all, their CSS is a file.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(
    health: Health, metrics: Metrics, ui: WebUI | None = None, slack: SlackEvents | None = None
) -> Flask:
    app = Flask(__name__, static_folder="static" if ui else None)
    app.config["MAX_CONTENT_LENGTH"] = 0  # GET only: no request carries a body (but Slack's)
    _add_probes(app, health, metrics)
    if slack is not None:  # SLACK_SIGNING_SECRET (SPEC 12): verified by signature, not WEB_AUTH
        from app.web.slackevents import add_slack_events

        add_slack_events(app, slack)
    if ui is not None:
        from app.web.figures import FiguresCache
        from app.web.pages import pages

        app.extensions["flinkswatch"] = ui
        figures = FiguresCache(ui.reads, ui.clock, background=ui.background)
        app.extensions["flinkswatch.figures"] = figures
        if ui.background:
            figures.start()  # ready before anyone asks, so no request waits for it
        app.register_blueprint(pages)
        from app.web.errors import add_error_pages

        add_error_pages(app)  # HTML for a browser, JSON when asked (replaces the probes')
        app.before_request(_guard(ui.access))
    app.after_request(_secure)
    return app


def _add_probes(app: Flask, health: Health, metrics: Metrics) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        ok, body = health.healthy()
        return _json(200 if ok else 503, body)

    @app.get("/readyz")
    def readyz() -> Response:
        ready, body = health.readiness()
        return _json(200 if ready else 503, body)

    @app.get("/metrics")
    def metrics_page() -> Response:
        return Response(generate_latest(metrics.registry), 200, content_type=CONTENT_TYPE_LATEST)

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return _json(404, {"error": "not found"})

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> Response:
        response = _json(405, {"error": "read-only: GET only"})
        response.headers["Allow"] = "GET, HEAD"
        return response


def _guard(access: Access) -> Callable[[], Response | None]:
    def guard() -> Response | None:
        if request.path in OPEN_PATHS or request.path == SLACK_EVENTS_PATH:
            return None
        if not access.host_allowed(request.host):
            # Not our name: a page on another site re-pointed at us (DNS rebinding).
            text = "forbidden: unexpected Host header (WEB_ALLOWED_HOSTS lists extra names)\n"
            return Response(text, 403, content_type="text/plain")
        refusal = access.allows({k.lower(): v for k, v in request.headers.items()})
        if refusal is None:
            return None
        status, headers = refusal
        text = "authentication required" if status == 401 else "forbidden"
        return Response(text + "\n", status, headers=headers, content_type="text/plain")

    return guard


def _secure(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path not in OPEN_PATHS:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _json(status: int, body: dict[str, object]) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")
