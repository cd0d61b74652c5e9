"""Slack interactivity's objects (SPEC 12), built from Settings: one handler, and the transports
that feed it: `POST /slack/events` (SLACK_SIGNING_SECRET) and Socket Mode (SLACK_APP_TOKEN)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.config.settings import Settings
from app.errors import ConfigError

if TYPE_CHECKING:
    from app.notify.interact import Interactions
    from app.notify.socketmode import SocketMode
    from app.web.slackevents import SlackEvents
    from app.wiring import App


def build_interactions(settings: Settings, app: App) -> Interactions | None:
    """The handler, when either transport is configured."""
    if not settings.slack_interactive:
        return None
    from app.core.routing import plan_deliveries
    from app.db.lookup import SlackReads
    from app.domain import EventKind
    from app.notify.interact import Interactions, post_response

    planner = None
    if EventKind.ACKNOWLEDGED in settings.alert_events:  # delivered as a cycle's events are
        routes = [(c.name, c.filter) for c in app.poller.channels]
        alerted = settings.alert_events
        planner = lambda event: plan_deliveries([event], routes, alerted)  # noqa: E731
    timeout = min(settings.slack_timeout_seconds, 10)
    return Interactions(
        store=SlackReads(
            app.engine,
            settings.stuck_after,
            planner,
            settings.late_after,
            settings.expect_min_activations,
        ),
        respond=lambda url, body: post_response(url, body, timeout),
        command=settings.slack_command,
    )


def build_slack_events(settings: Settings, handler: Interactions | None) -> SlackEvents | None:
    """`POST /slack/events` on the HTTP server, with SLACK_SIGNING_SECRET."""
    secret = settings.slack_signing_secret
    if handler is None or secret is None or not secret.get_secret_value():
        return None
    if not settings.http_port:
        raise ConfigError("SLACK_SIGNING_SECRET needs the HTTP server: set HTTP_PORT (not 0)")
    from slack_sdk.signature import SignatureVerifier

    from app.web.slackevents import SlackEvents

    return SlackEvents(handler, SignatureVerifier(secret.get_secret_value()))


def build_socket_mode(settings: Settings, handler: Interactions | None) -> SocketMode | None:
    """The Socket Mode connection, with SLACK_APP_TOKEN."""
    token = settings.slack_app_token
    if handler is None or token is None or not token.get_secret_value():
        return None
    from app.notify.socketmode import SocketMode

    return SocketMode(token.get_secret_value(), settings.slack_api_url, handler)


def check_interactivity(settings: Settings) -> str:
    """`flinkswatch check`'s line: the HTTP endpoint's port, and Socket Mode's token reaching
    Slack (apps.connections.open issues a URL; nothing connects). Raises what is wrong."""
    said = []
    secret = settings.slack_signing_secret
    if secret is not None and secret.get_secret_value():
        if not settings.http_port:
            raise ConfigError("SLACK_SIGNING_SECRET needs the HTTP server: set HTTP_PORT (not 0)")
        said.append(f"HTTP: Slack posts to /slack/events on port {settings.http_port}")
    token = settings.slack_app_token
    if token is not None and token.get_secret_value():
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError

        client = WebClient(base_url=settings.slack_api_url, timeout=10)
        try:
            client.apps_connections_open(app_token=token.get_secret_value())
        except SlackApiError as exc:
            error = exc.response.get("error", "refused") if exc.response else "refused"
            raise ConfigError(
                f"SLACK_APP_TOKEN: Slack said {error} (needs connections:write)"
            ) from None
        said.append("Socket Mode: the app-level token opens a connection")
    return "; ".join(said)
