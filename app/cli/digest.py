"""`flinkswatch digest [--since DATE] [--dry-run]`: the digest of SPEC 9, now. It is recorded
(a `digests` row, one delivery per channel) and delivered when this process may lead; beside a
running service it is recorded and that service delivers it with its next poll, so no message
is ever sent by two processes. `--dry-run` prints it and records nothing."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.cli.exits import EXIT_CONFIG, EXIT_DEGRADED, EXIT_FAILED, EXIT_OK
from app.cli.since import parse_since
from app.errors import LockHeld

if TYPE_CHECKING:
    from app.config.settings import Settings
    from app.core.digest import DigestContent
    from app.db.leader import Leadership
    from app.notify.channel import Channel
    from app.watch.digestwatch import DigestWatch


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    digest = sub.add_parser(
        "digest", help="send the digest now: moves, what went ACTIVE, what is pending, medians"
    )
    digest.add_argument(
        "--since",
        help="start of the period: an ISO date or time in ALERT_TIMEZONE (e.g. 2026-11-01) or a"
        " duration back from now (e.g. 7d); by default the end of the previous digest, or 7 days"
        " ago",
    )
    digest.add_argument(
        "--dry-run", action="store_true", help="print the digest per channel; send and record none"
    )
    digest.set_defaults(func=cmd_digest)


def cmd_digest(settings: Settings, args: argparse.Namespace) -> int:
    from app.db.leader import leadership_for
    from app.wiring import build_channels, build_read_engine
    from app.wiring.service import build_digests

    now = datetime.now(UTC)
    try:
        since = parse_since(args.since, now, settings.alert_timezone) if args.since else None
    except ValueError as exc:
        print(f"flinkswatch: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if since is not None and since >= now:
        print(f"flinkswatch: --since {args.since} is not in the past", file=sys.stderr)
        return EXIT_CONFIG
    engine = build_read_engine(settings)
    leader = leadership_for(engine)
    try:
        channels = build_channels(settings, engine)
        watch = build_digests(settings, engine, channels, leader)
        content = watch.compute(now, since)
        if args.dry_run:
            _print(content, channels)
            return EXIT_OK
        return _send(watch, content, leader)
    finally:
        leader.release()
        engine.dispose()


def _print(content: DigestContent, channels: list[Channel]) -> None:
    from app.cli.sample import describe
    from app.core.digest import Digest

    digest = Digest(0, content.end, 0, (), digest_id=0, content=content)
    for channel in channels:
        for message in channel.render([], digest):
            print(f"== {describe(channel)}\n{message.preview}\n")
    print("(dry run: nothing sent, nothing recorded)")


def _send(watch: DigestWatch, content: DigestContent, leader: Leadership) -> int:
    from app.db.leader import Role

    try:
        role = leader.check()
    except LockHeld:  # SQLite: the running service holds the file
        role = Role.STANDBY
    if role is Role.UNKNOWN:
        print("flinkswatch: digest not sent: the database cannot be reached", file=sys.stderr)
        return EXIT_FAILED
    digest_id = watch.record(content)
    if role is Role.STANDBY:
        print(
            f"digest {digest_id} recorded: the running flinkswatch service delivers it with its"
            " next poll"
        )
        return EXIT_OK
    report = watch.deliver()
    if report.failed:
        for error in report.errors:
            print(f"flinkswatch: {error}", file=sys.stderr)
        print(
            f"flinkswatch: digest {digest_id} recorded, but {report.failed} deliveries failed;"
            " they are retried by the next poll (`flinkswatch deliveries`)",
            file=sys.stderr,
        )
        return EXIT_DEGRADED
    print(f"digest {digest_id} sent ({len(watch.channels)} channels)")
    return EXIT_OK
