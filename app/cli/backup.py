"""`flinkswatch backup PATH` (SPEC 4): a verified online copy of the SQLite database; on
PostgreSQL, the way to pg_dump. Like the read commands it never creates a database."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.exits import EXIT_CONFIG, EXIT_OK
from app.errors import ConfigError, NoDatabase

if TYPE_CHECKING:
    from app.config.settings import Settings


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser(
        "backup",
        help="a verified copy of the SQLite database, safe while the service runs"
        " (PostgreSQL: use pg_dump)",
        description="Copy the SQLite database of DATABASE_URL with SQLite's online backup,"
        " check the copy (integrity_check, the flinkswatch schema), then say done. Never"
        " overwrites a file, never creates a database.",
    )
    backup.add_argument(
        "path",
        metavar="PATH",
        type=Path,
        help="the file to write (must not exist), or an existing folder: a file named"
        " flinkswatch-<UTC date and time>.db is written in it",
    )
    backup.set_defaults(func=cmd_backup)


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from app.config.settings import settings_origin
    from app.db import backup
    from app.db.engine import safe_url

    url = settings.database_url.get_secret_value()
    try:
        source = backup.sqlite_file(url)
        if source is None:
            print(
                f"flinkswatch: backup: {safe_url(url)} is not SQLite: back PostgreSQL up with"
                " pg_dump, e.g. pg_dump --format=custom --file=flinkswatch.dump"
                ' "$DATABASE_URL" (docs/operations.md, section 3)',
                file=sys.stderr,
            )
            return EXIT_CONFIG
        target = backup.target_file(args.path, datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
        done = backup.backup_sqlite(source, target)
    except NoDatabase as exc:
        raise ConfigError(
            f"no database at {safe_url(url)} ({exc.path} does not exist; {settings_origin()}):"
            " nothing backed up; run flinkswatch where the service's settings are, or set"
            " DATABASE_URL"
        ) from None
    except backup.NotFlinkswatch as exc:
        raise ConfigError(
            f"{exc} ({safe_url(url)}; {settings_origin()}): nothing backed up"
        ) from None
    except backup.BackupRefused as exc:
        print(f"flinkswatch: backup: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"backup done: {done.path} ({done.size:,} bytes; schema {done.revision},"
        f" {done.registrations:,} registrations, {done.events:,} events; integrity_check ok)"
    )
    return EXIT_OK
