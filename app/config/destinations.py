"""Which channel instances the settings call for (SLACK_ROUTES, EMAIL_ROUTES), or the setting
that stops a start: values derived from Settings without I/O, for app.wiring (which builds the
channels; its validations.py lists these refusals for `check` and every start)."""

from __future__ import annotations

from app.config.settings import ConfigError, Settings
from app.core.routing import Destination, destinations


def slack_destinations(settings: Settings) -> list[Destination]:
    """The bot's channel instances: SLACK_CHANNEL, and one per other channel of SLACK_ROUTES."""
    rules = settings.slack_routes
    if rules and not settings.slack_bot_enabled:
        raise ConfigError("SLACK_ROUTES: needs SLACK_BOT_TOKEN and SLACK_CHANNEL")
    if settings.slack_board and not settings.slack_bot_enabled:
        raise ConfigError("SLACK_BOARD=true: needs the bot, SLACK_BOT_TOKEN and SLACK_CHANNEL")
    if not settings.slack_bot_enabled:
        return []
    unmatched = settings.routes_default == "unmatched"
    return destinations("slack", settings.slack_channel, rules, unmatched)


def email_destinations(settings: Settings) -> list[Destination]:
    """The email instances: EMAIL_TO, and one per other recipient list of EMAIL_ROUTES."""
    rules = settings.email_routes
    if rules and not settings.email_enabled:
        raise ConfigError("EMAIL_ROUTES: needs SMTP_HOST, EMAIL_FROM and EMAIL_TO")
    if not settings.email_enabled:
        return []
    unmatched = settings.routes_default == "unmatched"
    return destinations("email", ",".join(settings.email_to), rules, unmatched)
