"""The channels of SPEC 13, built from Settings: one per Apprise URL, and the signed webhook.
Neither library is imported unless its channel is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.config.settings import Settings

if TYPE_CHECKING:
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
