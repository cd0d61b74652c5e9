"""The channels, built from Settings: Slack (bot, webhook), email, one per Apprise URL, and the
signed webhook. No channel's library is imported unless that channel is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.config.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from app.notify.channel import Channel


def apprise_channels(settings: Settings) -> list[Channel]:
    from app.config.destinations import apprise_destinations

    destinations = apprise_destinations(settings)
    if not destinations:
        return []  # apprise is not even imported
    from app.notify.apprise_channel import AppriseChannel

    timeout = settings.apprise_timeout_seconds
    return [AppriseChannel(d.target, d.name, timeout, d.filter) for d in destinations]


def webhook_channels(settings: Settings) -> list[Channel]:
    from app.config.destinations import webhook_target

    target = webhook_target(settings)
    if target is None:
        return []
    from app.notify.webhook import WebhookChannel

    return [WebhookChannel(*target, timeout=settings.webhook_timeout_seconds)]


def build_channels(settings: Settings, engine: Engine | None = None) -> list[Channel]:
    """Complete channels (one per routed destination), else the console; threads need engine."""
    from app.notify.console import ConsoleChannel

    channels = _slack_channels(settings, engine) + _email_channels(settings)
    channels += apprise_channels(settings) + webhook_channels(settings)
    return channels or [ConsoleChannel()]


def _slack_channels(settings: Settings, engine: Engine | None) -> list[Channel]:
    from app.config.destinations import slack_destinations

    destinations = slack_destinations(settings)
    if not destinations and not settings.slack_webhook_enabled:
        return []  # slack_sdk is not even imported
    from app.db.threads import SlackThreadTable
    from app.notify.slack import SlackBotChannel, SlackWebhookChannel
    from app.notify.slack_threads import SlackThreads

    threads = None
    if engine is not None and settings.slack_threads:
        threads = SlackThreads(SlackThreadTable(engine))
    channels: list[Channel] = [
        SlackBotChannel(
            token=plain(settings.slack_bot_token) or "",
            channel=dest.target,
            api_url=settings.slack_api_url,
            timeout=settings.slack_timeout_seconds,
            name=dest.name,
            threads=threads,
            accepts=dest.filter,
        )
        for dest in destinations
    ]
    if settings.slack_webhook_enabled:
        url = plain(settings.slack_webhook_url) or ""
        channels.append(SlackWebhookChannel(url=url, timeout=settings.slack_timeout_seconds))
    for channel in channels:  # never a button that nothing answers (SPEC 12)
        channel.buttons = settings.slack_interactive  # type: ignore[attr-defined]
    return channels


def _email_channels(settings: Settings) -> list[Channel]:
    from app.config.destinations import email_destinations

    destinations = email_destinations(settings)
    if not destinations:
        return []
    from app.notify.email import EmailChannel

    return [
        EmailChannel(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=plain(settings.smtp_username),
            password=plain(settings.smtp_password),
            sender=settings.email_from,
            recipients=dest.target.split(","),
            timeout=settings.smtp_timeout_seconds,
            ca_bundle=settings.smtp_ca_bundle,
            name=dest.name,
            accepts=dest.filter,
        )
        for dest in destinations
    ]


def plain(value: object) -> str | None:
    """A secret setting's value (None when unset), for the one object that uses it."""
    secret = getattr(value, "get_secret_value", None)
    return str(secret()) if secret is not None else None
