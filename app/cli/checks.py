"""`flinkswatch check`: validate every setting first (nothing is touched while one is wrong),
then reach every configured service; one verdict a line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import NamedTuple

from app.config.settings import ConfigError, Settings
from app.db import engine as db
from app.delivery import DeliveryFailure
from app.flinks.client import FlinksError


class Check(NamedTuple):
    ok: bool
    line: str
    config: bool = False  # a failure `run` refuses to start on too: a configuration error


def settings_checks(settings: Settings) -> list[Check]:
    """Every setting, validated with no side effect: one FAIL line per problem, or one ok.
    The refusals are those of every start (app/wiring/validations.py); a channel left off by
    half its settings only warns at start, but is a FAIL here (issue 15)."""
    from app.wiring.validations import problems

    found = [f"channel off: {note}" for note in settings.incomplete_channels()]
    found += problems(settings)
    if found:
        return [Check(False, f"settings: {problem}", config=True) for problem in found]
    return [Check(True, "settings: valid")]


def settings_warnings(settings: Settings) -> list[str]:
    """Look-alike variables that are not settings, and STUCK_AFTER statuses no registration
    has had (the database is asked when it exists and is current; it is never created)."""
    from app.config.unknown import unknown_settings_here, unknown_stuck_statuses
    from app.domain import KNOWN_STATUSES

    seen: set[str] = set()
    if any(status not in KNOWN_STATUSES for status in settings.stuck_after):
        seen = _statuses_seen(settings)
    return unknown_settings_here() + unknown_stuck_statuses(settings.stuck_after, seen)


def _statuses_seen(settings: Settings) -> set[str]:
    from app.db import queries
    from app.wiring import build_engine

    try:
        engine = build_engine(settings, create=False)
    except (db.NoDatabase, db.DatabaseError, ConfigError):
        return set()  # reported by the database line
    try:
        return queries.known_statuses(engine) if db.schema_is_current(engine) else set()
    except db.DatabaseError:
        return set()
    finally:
        engine.dispose()


def refuse_on_problems(settings: Settings, then: str) -> bool:
    """For commands that need the channels right (`notify-test`, `routes`): print each settings
    problem as a FAIL line and one configuration error line; True when there were any."""
    from app.wiring.validations import problems

    found = [f"channel off: {note}" for note in settings.incomplete_channels()]
    found += problems(settings, flinks=False)
    for problem in found:
        print(f"FAIL  settings: {problem}")
    if found:
        print(f"flinkswatch: configuration error: {then}", file=sys.stderr)
    return bool(found)


def service_checks(settings: Settings) -> Iterator[Check]:
    """Reach every configured service, once the settings are known to be valid."""
    yield _guard("database", lambda: _database(settings))
    yield _guard("flinks", lambda: _flinks(settings))
    from app.wiring import build_channels

    channels = build_channels(settings)
    for channel in channels:
        if channel.name == "console":
            yield Check(True, "alerts: no channel configured, alerts go to the console log")
        else:
            yield _guard(channel.name, channel.check)
    if settings.slack_interactive:  # SPEC 12: the buttons' and slash command's transports
        from app.wiring.interact import check_interactivity

        yield _guard("slack interactivity", lambda: check_interactivity(settings))
    yield from _delivery_health(settings, [channel.name for channel in channels])


def _delivery_health(settings: Settings, names: list[str]) -> Iterator[Check]:
    """SPEC 8: a channel whose deliveries keep failing is a FAIL, whatever its probe said
    (a webhook or a mail relay can accept a probe and still refuse the alerts)."""
    from app.db.outbox import Outbox
    from app.db.store import Store
    from app.wiring import build_engine

    try:
        engine = build_engine(settings, create=False)
    except (db.NoDatabase, db.DatabaseError, ConfigError):
        return  # reported by the database line already
    try:
        if not db.schema_is_current(engine):
            return
        records = Store(engine).channel_health()
        waiting = Outbox(engine).delivery_counts()
    except db.DatabaseError:
        return
    finally:
        engine.dispose()
    for name in names:
        record = records.get(name)
        if record is None or not record.announced:
            continue
        since = record.since.strftime("%Y-%m-%d %H:%M UTC") if record.since else "?"
        owed = waiting.get((name, "pending"), 0)
        yield Check(
            False,
            f"{name} deliveries: failing since {since} ({record.failing_cycles} polls),"
            f" {owed} alerts wait: {record.last_error}"
            f" (see `flinkswatch deliveries --channel {name} --status pending`)",
        )


def _guard(name: str, probe: Callable[[], str]) -> Check:
    try:
        return Check(True, f"{name}: {probe()}")
    except ConfigError as exc:
        return Check(False, f"{name}: {exc}", config=True)
    except (db.DatabaseError, FlinksError, DeliveryFailure) as exc:
        return Check(False, f"{name}: {exc}")
    except Exception as exc:  # noqa: BLE001 - report any failure as a line, never a traceback
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return Check(False, f"{name}: {type(exc).__name__}: {first}")


def _database(settings: Settings) -> str:
    """What a start would find; with AUTO_MIGRATE off, the refusals of `run` (exit 2)."""
    from app.wiring import STALE_SCHEMA_REFUSAL, build_engine, no_database_refusal

    try:  # `check` has no side effect: a missing SQLite file is reported, not created
        engine = build_engine(settings, create=False)
    except db.NoDatabase as exc:
        if settings.auto_migrate:
            return f"no database file yet at {exc.path}: created and migrated at start"
        raise ConfigError(no_database_refusal(exc.path)) from None
    try:
        if db.schema_is_current(engine):
            return f"reachable, schema at head ({db.head_revision()})"
        current = db.current_revision(engine)
        if settings.auto_migrate:
            return f"reachable, schema {current or 'empty'}: will migrate at start"
        raise ConfigError(STALE_SCHEMA_REFUSAL)
    finally:
        engine.dispose()


def _flinks(settings: Settings) -> str:
    from app.wiring import build_flinks

    client = build_flinks(settings)
    try:
        return client.check()
    finally:
        client.close()
