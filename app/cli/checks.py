"""`flinkswatch check`: reach every configured service and say, one line each, what works."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from app.db import engine as db
from app.domain import DeliveryFailure
from app.flinks.client import FlinksError
from app.settings import ConfigError, Settings

Check = tuple[bool, str]


def run_checks(settings: Settings) -> Iterator[Check]:
    yield True, "settings: valid"
    for note in settings.incomplete_channels():
        yield False, f"settings: channel off: {note}"
    yield _guard("database", lambda: _database(settings))
    yield _guard("flinks", lambda: _flinks(settings))
    from app.wiring import build_channels

    for channel in build_channels(settings):
        if channel.name == "console":
            yield True, "alerts: no channel configured, alerts go to the console log"
        else:
            yield _guard(channel.name, channel.check)


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

    engine = build_engine(settings)
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
