"""The one place concrete objects are built from Settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from app import db, queries
from app.flinks import FlinksClient
from app.notify.console import ConsoleChannel
from app.notify.deliver import Channel
from app.notify.email import EmailChannel
from app.notify.slack import SlackBotChannel, SlackWebhookChannel
from app.outbox import Outbox
from app.poll import Poller
from app.settings import SECRET_FIELDS, ConfigError, Settings
from app.store import Store

log = logging.getLogger(__name__)


def secrets_of(settings: Settings) -> list[str]:
    """Every configured secret value, for the log redaction filter."""
    values = []
    for name in SECRET_FIELDS:
        value = getattr(settings, name)
        if value is not None:
            values.append(value.get_secret_value())
    url = settings.database_url.get_secret_value()
    try:
        from sqlalchemy import make_url

        password = make_url(url).password
        if password:
            values.append(str(password))
    except Exception:  # noqa: BLE001, S110 - an unparsable URL fails later with its own message
        pass
    return [v for v in values if v]


def build_engine(settings: Settings) -> Engine:
    return db.make_engine(settings.database_url.get_secret_value())


def prepare_database(settings: Settings, engine: Engine) -> None:
    """Bring the schema to head when AUTO_MIGRATE is on; otherwise insist it already is."""
    if settings.auto_migrate:
        db.migrate(engine)
    elif not db.schema_is_current(engine):
        raise ConfigError(
            "AUTO_MIGRATE is off and the database schema is not current: run `flinkswatch migrate`"
        )


def build_channels(settings: Settings) -> list[Channel]:
    """The alert channels whose settings are complete; the console when there are none."""
    channels: list[Channel] = []
    for note in settings.incomplete_channels():
        log.warning("settings.channel_incomplete detail=%r", note)
    if settings.slack_bot_enabled:
        assert settings.slack_bot_token is not None
        channels.append(
            SlackBotChannel(
                token=settings.slack_bot_token.get_secret_value(),
                channel=settings.slack_channel,
                api_url=settings.slack_api_url,
                timeout=settings.flinks_timeout_seconds,
            )
        )
    if settings.slack_webhook_enabled:
        assert settings.slack_webhook_url is not None
        channels.append(
            SlackWebhookChannel(
                url=settings.slack_webhook_url.get_secret_value(),
                timeout=settings.flinks_timeout_seconds,
            )
        )
    if settings.email_enabled:
        channels.append(
            EmailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                security=settings.smtp_security,
                username=_plain(settings.smtp_username),
                password=_plain(settings.smtp_password),
                sender=settings.email_from,
                recipients=settings.email_recipients,
                timeout=settings.smtp_timeout_seconds,
            )
        )
    return channels or [ConsoleChannel()]


def build_flinks(settings: Settings) -> FlinksClient:
    return FlinksClient.from_settings(settings)


@dataclass
class App:
    """The built objects of one process, closed together."""

    engine: Engine
    flinks: FlinksClient
    poller: Poller

    def counts(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Registrations by status, deliveries by (channel, state): the service's gauges."""
        return queries.status_counts(self.engine), self.poller.outbox.delivery_counts()

    def close(self) -> None:
        self.flinks.close()
        self.engine.dispose()


def build_app(settings: Settings) -> App:
    """Flinks client, database (migrated when AUTO_MIGRATE), channels and the poller."""
    flinks = build_flinks(settings)
    engine = build_engine(settings)
    try:
        prepare_database(settings, engine)
    except BaseException:
        flinks.close()
        engine.dispose()
        raise
    poller = Poller(
        source=flinks,
        store=Store(engine),
        outbox=Outbox(engine),
        channels=build_channels(settings),
        removal_confirm_polls=settings.removal_confirm_polls,
        delivery_max_attempts=settings.delivery_max_attempts,
    )
    return App(engine=engine, flinks=flinks, poller=poller)


def _plain(value: object) -> str | None:
    secret = getattr(value, "get_secret_value", None)
    return str(secret()) if secret is not None else None
