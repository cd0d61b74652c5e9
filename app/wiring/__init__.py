"""The one place concrete objects are built from Settings (the long-running service's own in
app/wiring/service.py). What a command does not build it does not import: `status` loads the
engine and the settings, not httpx, the channels nor the service (tests/unit/test_startup.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.config.settings import ConfigError, Settings, settings_origin
from app.db import engine as db
from app.domain import KNOWN_STATUSES
from app.wiring.channels import build_channels as build_channels
from app.wiring.channels import plain

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

    from app.db.leader import Leadership
    from app.db.outbox import Outbox
    from app.flinks.client import FlinksClient
    from app.notify.heartbeat import Heartbeat
    from app.watch.boardwatch import BoardWatch
    from app.watch.poll import Poller
    from app.watch.poll_ports import Source
    from app.watch.waits import Waits

log = logging.getLogger(__name__)


def build_engine(settings: Settings, *, create: bool = True) -> Engine:
    """create=False: a missing SQLite file is db.NoDatabase, never created (read commands)."""
    return db.make_engine(settings.database_url.get_secret_value(), create=create)


def build_read_engine(settings: Settings) -> Engine:
    """For read-only commands: never created nor migrated; else ConfigError (URL, origin)."""
    url = settings.database_url.get_secret_value()
    try:
        engine = build_engine(settings, create=False)
    except db.NoDatabase as exc:
        raise ConfigError(
            f"no database at {db.safe_url(url)} ({exc.path} does not exist;"
            f" {settings_origin()}): run flinkswatch where its settings are, or set"
            " DATABASE_URL; `flinkswatch migrate` creates it"
        ) from None
    try:
        if not db.schema_is_current(engine):
            raise ConfigError(
                f"the database {db.safe_url(url)} has no current flinkswatch schema"
                f" ({settings_origin()}): run `flinkswatch migrate` (or `flinkswatch poll`) first"
            )
    except BaseException:
        engine.dispose()
        raise
    return engine


def build_flinks(
    settings: Settings,
    http: httpx.Client | None = None,
    pause: Callable[[float], None] | None = None,
) -> FlinksClient:
    """The Flinks client (ConfigError without credentials); `pause`: its wait between retries."""
    from app.deadline import flinks_seconds
    from app.flinks.client import MIB, FlinksClient

    client_id, client_secret = settings.require_flinks_credentials()
    return FlinksClient(
        listing_url=settings.listing_url,
        token_url=settings.flinks_token_url,
        client_id=client_id,
        client_secret=client_secret,
        scope=settings.flinks_scope,
        token_auth=settings.flinks_token_auth,
        token_format=settings.flinks_token_format,
        timeout=settings.flinks_timeout_seconds,
        deadline_seconds=flinks_seconds(
            settings.flinks_timeout_seconds, settings.poll_interval_seconds
        ),
        max_answer_bytes=settings.flinks_max_answer_mb * MIB,
        http=http,
        verify=settings.flinks_ca_bundle or True,
        pause=pause or time.sleep,
    )


@dataclass
class App:
    """The built objects of one process, closed together."""

    engine: Engine
    flinks: FlinksClient
    outbox: Outbox
    poller: Poller
    waits: Waits
    leader: Leadership  # the SQLite file lock is held from build_app on
    heartbeat: Heartbeat | None = None

    def counts(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Registrations by status, deliveries by (channel, state): the service's gauges."""
        from app.db import queries

        return queries.status_counts(self.engine), self.outbox.delivery_counts()

    def close(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.close()
        self.leader.release()
        self.flinks.close()
        self.engine.dispose()


def _reminders(settings: Settings) -> dict[str, Any]:
    """The Poller's reminder settings: stuck (SPEC 9) and late (SPEC 11)."""
    return {
        "stuck_after": settings.stuck_after,
        "stuck_repeat": settings.stuck_repeat,
        "late_after": settings.late_after,
        "expect_min_activations": settings.expect_min_activations,
    }


def build_app(settings: Settings, source: Source | None = None) -> App:
    """Flinks client, database, channels, poller; `source` replaces Flinks (the benchmark)."""
    from app.core.blind import BlindPolicy
    from app.core.quiet import QuietHours
    from app.db.outbox import Outbox
    from app.db.store import Store
    from app.watch.poll import Poller
    from app.watch.waits import Waits, interruptible
    from app.wiring.validations import refuse

    refuse(settings)  # what `check` refuses stops the start before the database is touched
    for note in settings.incomplete_channels():
        log.warning("settings.channel_incomplete detail=%r", note)
    stop = threading.Event()  # shared by the retry waits and the service (Waits)
    flinks = build_flinks(settings, pause=interruptible(stop))
    try:
        engine, leader = _open_database(settings)
    except BaseException:
        flinks.close()
        raise
    _warn_stuck_statuses(settings, engine)
    outbox, waits, heartbeat = Outbox(engine), Waits(leader, stop=stop), build_heartbeat(settings)
    poller = Poller(
        source=source or flinks,
        store=Store(engine, fence=leader.fence),
        outbox=outbox,
        channels=build_channels(settings, engine),
        removal_confirm_polls=settings.removal_confirm_polls,
        removal_hold_percent=settings.removal_hold_percent,
        delivery_max_attempts=settings.delivery_max_attempts,
        blind_policy=BlindPolicy(settings.blind_after_failures, settings.blind_repeat),
        **_reminders(settings),
        quiet=QuietHours(
            settings.quiet_hours, settings.alert_timezone, settings.quiet_breakthrough
        ),
        alerted=settings.alert_events,
        sleep=waits.sleep,
        guard=waits.confirm_leader,
    )
    poller.heartbeat = heartbeat.ping if heartbeat is not None else poller.heartbeat
    built = App(engine, flinks, outbox, poller, waits, leader, heartbeat)
    poller.board = build_board(settings, built) if settings.slack_board else poller.board
    return built


# What a start refuses for the database's state with AUTO_MIGRATE off; `check` says the same.
STALE_SCHEMA_REFUSAL = (
    "AUTO_MIGRATE is off and the database schema is not current: run `flinkswatch migrate`"
)


def no_database_refusal(path: object) -> str:
    off = "AUTO_MIGRATE is off: restore it, or `flinkswatch migrate` creates an empty one"
    return f"no database file at {path} and {off}"


def _open_database(settings: Settings) -> tuple[Engine, Leadership]:
    """The engine, its single-instance lock held, the schema at head (or refused)."""
    from app.db.leader import leadership_for

    try:  # a database is created only when AUTO_MIGRATE says so (SPEC 8)
        engine = build_engine(settings, create=settings.auto_migrate)
    except db.NoDatabase as exc:
        raise ConfigError(no_database_refusal(exc.path)) from None
    leader = leadership_for(engine)
    try:
        leader.acquire()  # a second instance on a SQLite file stops before migrating
        if db.schema_is_current(engine):
            pass  # the common start: Alembic is not even imported (app/db/revision.py)
        elif settings.auto_migrate:
            db.migrate(engine)
        else:
            raise ConfigError(STALE_SCHEMA_REFUSAL)
    except BaseException:
        leader.release()
        engine.dispose()
        raise
    return engine, leader


def _warn_stuck_statuses(settings: Settings, engine: Engine) -> None:
    """A STUCK_AFTER status no registration has had (the database says which have), at start."""
    from app.config.unknown import unknown_stuck_statuses
    from app.db import queries

    if any(status not in KNOWN_STATUSES for status in settings.stuck_after):
        for line in unknown_stuck_statuses(settings.stuck_after, queries.known_statuses(engine)):
            log.warning("settings.stuck_status %s", line)


def build_board(settings: Settings, app: App) -> BoardWatch:
    """SLACK_BOARD: a board in each bot channel taking everything (none in a routed one)."""
    from app.db.board import BoardTable
    from app.notify.slack import SlackBotChannel
    from app.watch.boardwatch import BoardWatch

    bots = [c for c in app.poller.channels if isinstance(c, SlackBotChannel) and c.filter.catch_all]
    p, table = app.poller, BoardTable(app.engine, fence=app.leader.fence)
    return BoardWatch(
        table,
        bots,
        settings.stuck_after,
        settings.alert_timezone,
        p.clock,
        p.sleep,
        late_after=settings.late_after,
        min_activations=settings.expect_min_activations,
    )


def build_heartbeat(settings: Settings) -> Heartbeat | None:
    """The pinger of HEARTBEAT_URL / HEARTBEAT_FAIL_URL, when either is set."""
    from app.notify.heartbeat import Heartbeat

    success, fail = plain(settings.heartbeat_url), plain(settings.heartbeat_fail_url)
    return Heartbeat(success, fail) if success or fail else None
