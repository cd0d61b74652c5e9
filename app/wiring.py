"""The one place concrete objects are built from Settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from app.db import engine as db
from app.db import queries
from app.db.leader import FileGuard, Leadership, leadership_for
from app.db.outbox import Outbox, SlackThreads
from app.db.store import Store
from app.flinks.client import FlinksClient
from app.notify.console import ConsoleChannel
from app.notify.deliver import Channel
from app.notify.email import EmailChannel
from app.notify.routing import Destination, Filter, destinations
from app.notify.slack import SlackBotChannel, SlackWebhookChannel
from app.poll import Poller
from app.settings import SECRET_FIELDS, ConfigError, Settings

log = logging.getLogger(__name__)


def secrets_of(settings: Settings) -> list[str]:
    """Every configured secret value, for the log redaction filter."""
    values = []
    # The database URL as a whole is not secret (a SQLite path must stay readable in logs):
    # only its password, added below.
    for name in (n for n in SECRET_FIELDS if n != "database_url"):
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


def slack_destinations(settings: Settings) -> list[Destination]:
    """The bot's channel instances: SLACK_CHANNEL, and one per other channel of SLACK_ROUTES."""
    rules = settings.slack_route_rules
    if rules and not settings.slack_bot_enabled:
        raise ConfigError("SLACK_ROUTES: needs SLACK_BOT_TOKEN and SLACK_CHANNEL")
    if not settings.slack_bot_enabled:
        return []
    unmatched = settings.routes_default == "unmatched"
    return destinations("slack", settings.slack_channel, rules, unmatched)


def email_destinations(settings: Settings) -> list[Destination]:
    """The email instances: EMAIL_TO, and one per other recipient list of EMAIL_ROUTES."""
    rules = settings.email_route_rules
    if rules and not settings.email_enabled:
        raise ConfigError("EMAIL_ROUTES: needs SMTP_HOST, EMAIL_FROM and EMAIL_TO")
    if not settings.email_enabled:
        return []
    unmatched = settings.routes_default == "unmatched"
    return destinations("email", ",".join(settings.email_recipients), rules, unmatched)


def channel_routes(settings: Settings) -> dict[str, Filter]:
    """Channel name -> which events it takes, for the store's delivery rows."""
    found = slack_destinations(settings) + email_destinations(settings)
    return {dest.name: dest.filter for dest in found}


def build_channels(settings: Settings, engine: Engine | None = None) -> list[Channel]:
    """The alert channels whose settings are complete (one per routed destination too); the
    console when there are none. With an engine and SLACK_THREADS, the bot replies in threads."""
    channels: list[Channel] = []
    for note in settings.incomplete_channels():
        log.warning("settings.channel_incomplete detail=%r", note)
    threads = SlackThreads(engine) if engine is not None and settings.slack_threads else None
    for dest in slack_destinations(settings):
        assert settings.slack_bot_token is not None
        channels.append(
            SlackBotChannel(
                token=settings.slack_bot_token.get_secret_value(),
                channel=dest.target,
                api_url=settings.slack_api_url,
                timeout=settings.flinks_timeout_seconds,
                name=dest.name,
                threads=threads,
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
    for dest in email_destinations(settings):
        channels.append(
            EmailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                security=settings.smtp_security,
                username=_plain(settings.smtp_username),
                password=_plain(settings.smtp_password),
                sender=settings.email_from,
                recipients=dest.target.split(","),
                timeout=settings.smtp_timeout_seconds,
                ca_bundle=settings.smtp_ca_bundle,
                name=dest.name,
            )
        )
    return channels or [ConsoleChannel()]


def build_leader(engine: Engine) -> Leadership:
    """The single-instance lock for the database behind `engine`."""
    return leadership_for(engine)


def build_flinks(settings: Settings) -> FlinksClient:
    return FlinksClient.from_settings(settings)


@dataclass
class App:
    """The built objects of one process, closed together."""

    engine: Engine
    flinks: FlinksClient
    poller: Poller
    leader: Leadership | None = None  # the SQLite file lock is held from build_app on

    def counts(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Registrations by status, deliveries by (channel, state): the service's gauges."""
        return queries.status_counts(self.engine), self.poller.outbox.delivery_counts()

    def close(self) -> None:
        if self.leader is not None:
            self.leader.release()
        self.flinks.close()
        self.engine.dispose()


def build_app(settings: Settings) -> App:
    """Flinks client, database (migrated when AUTO_MIGRATE), channels and the poller."""
    flinks = build_flinks(settings)
    engine = build_engine(settings)
    leader = build_leader(engine)
    try:
        if isinstance(leader, FileGuard):
            leader.acquire()  # a second instance on a SQLite file stops before migrating
        prepare_database(settings, engine)
    except BaseException:
        leader.release()
        flinks.close()
        engine.dispose()
        raise
    poller = Poller(
        source=flinks,
        store=Store(engine, routes=channel_routes(settings)),
        outbox=Outbox(engine),
        channels=build_channels(settings, engine),
        removal_confirm_polls=settings.removal_confirm_polls,
        delivery_max_attempts=settings.delivery_max_attempts,
        alerted=settings.alerted_kinds,
    )
    return App(engine=engine, flinks=flinks, poller=poller, leader=leader)


def _plain(value: object) -> str | None:
    secret = getattr(value, "get_secret_value", None)
    return str(secret()) if secret is not None else None
