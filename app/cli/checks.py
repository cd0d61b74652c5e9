"""`flinkswatch check`: validate every setting first (nothing is touched while one is wrong),
then reach every configured service; one verdict a line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

from app.config.settings import ConfigError, Settings
from app.db import engine as db
from app.delivery import DeliveryFailure
from app.flinks.client import FlinksError

Check = tuple[bool, str]


def settings_checks(settings: Settings) -> list[Check]:
    """Every setting, validated with no side effect: one FAIL line per problem, or one ok."""
    from app.config.destinations import settings_problems

    problems = settings_problems(settings)
    if problems:
        return [(False, f"settings: {problem}") for problem in problems]
    return [(True, "settings: valid")]


def refuse_on_problems(settings: Settings, then: str) -> bool:
    """For commands that need the channels right (`notify-test`, `routes`): print each settings
    problem as a FAIL line and one configuration error line; True when there were any."""
    from app.config.destinations import settings_problems

    problems = settings_problems(settings, flinks=False)
    for problem in problems:
        print(f"FAIL  settings: {problem}")
    if problems:
        print(f"flinkswatch: configuration error: {then}", file=sys.stderr)
    return bool(problems)


def service_checks(settings: Settings) -> Iterator[Check]:
    """Reach every configured service, once the settings are known to be valid."""
    yield _guard("database", lambda: _database(settings))
    yield _guard("flinks", lambda: _flinks(settings))
    from app.wiring import build_channels

    channels = build_channels(settings)
    for channel in channels:
        if channel.name == "console":
            yield True, "alerts: no channel configured, alerts go to the console log"
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
        yield (
            False,
            (
                f"{name} deliveries: failing since {since} ({record.failing_cycles} polls),"
                f" {owed} alerts wait: {record.last_error}"
                f" (see `flinkswatch deliveries --channel {name} --status pending`)"
            ),
        )


def _guard(name: str, probe: Callable[[], str]) -> Check:
    try:
        return True, f"{name}: {probe()}"
    except (ConfigError, db.DatabaseError, FlinksError, DeliveryFailure) as exc:
        return False, f"{name}: {exc}"
    except Exception as exc:  # noqa: BLE001 - report any failure as a line, never a traceback
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return False, f"{name}: {type(exc).__name__}: {first}"


def _database(settings: Settings) -> str:
    from app.wiring import build_engine

    try:  # `check` has no side effect: a missing SQLite file is reported, not created
        engine = build_engine(settings, create=False)
    except db.NoDatabase as exc:
        if settings.auto_migrate:
            return f"no database file yet at {exc.path}: created and migrated at start"
        raise ConfigError(f"no database file at {exc.path}: run `flinkswatch migrate`") from None
    try:
        if db.schema_is_current(engine):
            return f"reachable, schema at head ({db.head_revision()})"
        current = db.current_revision(engine)
        if settings.auto_migrate:
            return f"reachable, schema {current or 'empty'}: will migrate at start"
        raise ConfigError(
            f"reachable, but schema {current or 'empty'} is not at head: run `flinkswatch migrate`"
        )
    finally:
        engine.dispose()


def _flinks(settings: Settings) -> str:
    from app.wiring import build_flinks

    client = build_flinks(settings)
    try:
        return client.check()
    finally:
        client.close()
