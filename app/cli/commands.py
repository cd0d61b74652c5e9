"""The `flinkswatch` command (SPEC 4). Exit: 0 done, 1 failed, 2 configuration, 3 degraded (rows
skipped, or a delivery failed), 4 another instance holds the lock."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app import __version__, logs
from app.cli import output
from app.db import engine as db
from app.db.leader import LockHeld
from app.domain import Outcome
from app.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    pass

log = logging.getLogger("flinkswatch")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_DEGRADED, EXIT_LOCKED = 0, 1, 2, 3, 4


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"flinkswatch: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.log_level, settings.log_format, settings.secret_values())
    command: Callable[[Settings, argparse.Namespace], int] = args.func
    try:
        return command(settings, args)
    except ConfigError as exc:
        print(f"flinkswatch: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except LockHeld as exc:
        print(f"flinkswatch: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except db.DatabaseError as exc:
        print(f"flinkswatch: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        # `run` and `demo` handle SIGINT themselves (exit 0); elsewhere the work was cut short.
        print("flinkswatch: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # `flinkswatch history | head`: the reader left; that is not an error.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flinkswatch",
        description="Watch Flinks Open Banking registrations and alert when they move.",
    )
    parser.add_argument("--version", action="version", version=f"flinkswatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser(
        "run", help="run the service: poll on a schedule, alert, serve HTTP"
    ).set_defaults(func=cmd_run)
    sub.add_parser("poll", help="run one complete cycle, then exit").set_defaults(func=cmd_poll)
    sub.add_parser("migrate", help="bring the database schema to head").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser(
        "check", help="validate settings and reach every configured service"
    ).set_defaults(func=cmd_check)

    _inspect_commands(sub)
    demo = sub.add_parser("demo", help="run against a simulated Flinks on a throwaway database")
    demo.add_argument("--interval", type=int, default=5, help="seconds between polls (5)")
    demo.add_argument("--cycles", type=int, default=None, help="stop after N polls")
    demo.add_argument("--seed", type=int, default=None, help="seed of the simulated upstream")
    demo.set_defaults(func=cmd_demo)
    return parser


def _inspect_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = sub.add_parser("status", help="the current registrations")
    _filters(status, history=False)
    status.add_argument("--all", action="store_true", help="include removed registrations")
    status.set_defaults(func=cmd_status)

    history = sub.add_parser("history", help="the event history, newest last")
    _filters(history, history=True)
    history.set_defaults(func=cmd_history)

    notify = sub.add_parser("notify-test", help="send a sample alert to every configured channel")
    notify.add_argument(
        "--dry-run", action="store_true", help="print the rendered messages, send nothing"
    )
    notify.set_defaults(func=cmd_notify_test)

    deliveries = sub.add_parser("deliveries", help="the delivery outbox, newest first")
    deliveries.add_argument("--status", choices=("pending", "sent", "failed"))
    deliveries.add_argument("--channel", help="e.g. slack, email, slack:#nbc-alerts")
    deliveries.add_argument("--limit", type=int, default=200, help="rows to show (200)")
    deliveries.add_argument("--format", choices=("table", "json", "csv"), default="table")
    deliveries.set_defaults(func=cmd_deliveries)


def _filters(parser: argparse.ArgumentParser, *, history: bool) -> None:
    parser.add_argument("--client-id")
    parser.add_argument("--provider-id", type=int)
    parser.add_argument("--provider", help="provider name, case-insensitive")
    parser.add_argument("--status", help="registration status (history: from or to)")
    if history:
        parser.add_argument("--event", help="event kind, e.g. status_changed")
        parser.add_argument("--since", type=_since, help="ISO date or time, e.g. 2026-11-01")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")


def _since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---- commands -----------------------------------------------------------------------------
def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    from app.wiring import build_app, build_service

    app = build_app(settings)
    service = build_service(settings, app)
    try:
        code = service.run()
    except BaseException:
        app.close()
        raise
    if service.abandoned:
        # A cycle is stuck in I/O past the stop deadline: leave now rather than close what it
        # still uses. The kernel drops the locks; an open transaction is rolled back.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(code)
    app.close()
    return code


def cmd_poll(settings: Settings, _args: argparse.Namespace) -> int:
    from app.db.leader import Role
    from app.wiring import build_app

    app = build_app(settings)
    try:
        # Beside running replicas on PostgreSQL, a one-off poll must not race the leader.
        role = app.leader.check()
        if role is Role.STANDBY:
            holder = app.leader.holder()
            raise LockHeld(
                "poll not run: another flinkswatch instance holds the leader lock"
                f"{f' ({holder})' if holder else ''}; it polls and delivers already"
            )
        if role is not Role.LEADER:
            reason = "the database cannot be reached to take the leader lock"
            print(f"flinkswatch: poll not run: {reason}", file=sys.stderr)
            return EXIT_FAILED
        result = app.poller.poll_once()
    finally:
        app.close()
    if result.outcome is Outcome.FAILED:
        print(f"flinkswatch: poll failed: {result.error}", file=sys.stderr)
        return EXIT_FAILED
    if failures := result.delivery_failures:
        # Recorded, but not every alert got out: degraded, so cron and wrappers notice.
        noun = "delivery" if failures == 1 else "deliveries"
        print(
            f"flinkswatch: poll recorded, but {failures} {noun} failed (see the delivery.failed"
            " lines above and `flinkswatch deliveries`)",
            file=sys.stderr,
        )
        return EXIT_DEGRADED
    return EXIT_DEGRADED if result.outcome is Outcome.DEGRADED else EXIT_OK


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from app.wiring import build_engine

    engine = build_engine(settings)
    try:
        db.migrate(engine)
        print(f"database schema at {db.current_revision(engine)}")
    finally:
        engine.dispose()
    return EXIT_OK


def _query(settings: Settings, args: argparse.Namespace, *, history: bool) -> int:
    from app.db import queries
    from app.wiring import build_read_engine

    engine = build_read_engine(settings)
    try:
        filters = queries.Filters(
            client_id=args.client_id,
            provider_id=args.provider_id,
            provider=args.provider,
            status=args.status,
            event=getattr(args, "event", None),
            since=getattr(args, "since", None),
            include_removed=getattr(args, "all", False),
        )
        rows = (queries.history if history else queries.current)(engine, filters)
    finally:
        engine.dispose()
    columns = output.HISTORY_COLUMNS if history else output.STATUS_COLUMNS
    print(output.render(rows, columns, args.format))
    return EXIT_OK


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    return _query(settings, args, history=False)


def cmd_history(settings: Settings, args: argparse.Namespace) -> int:
    return _query(settings, args, history=True)


def cmd_check(settings: Settings, _args: argparse.Namespace) -> int:
    from app.cli.checks import run_checks

    failures = 0
    for ok, line in run_checks(settings):
        print(f"{'ok  ' if ok else 'FAIL'}  {line}")
        failures += not ok
    return EXIT_FAILED if failures else EXIT_OK


DELIVERY_COLUMNS = (
    "id",
    "created_at",
    "channel",
    "status",
    "attempts",
    "next_attempt_at",
    "kind",
    "event",
    "client_id",
    "provider_name",
    "to_status",
    "last_error",  # last: the table shows it whole, so it must not push the others apart
)


def cmd_notify_test(settings: Settings, args: argparse.Namespace) -> int:
    from app.cli.sample import notify_test
    from app.wiring import build_channels

    # No engine: a sample never starts a Slack thread nor touches the outbox.
    failures = notify_test(build_channels(settings), dry_run=args.dry_run)
    return EXIT_FAILED if failures else EXIT_OK


def cmd_deliveries(settings: Settings, args: argparse.Namespace) -> int:
    from app.db.outbox import Outbox
    from app.wiring import build_read_engine

    engine = build_read_engine(settings)
    try:
        rows = Outbox(engine).list_deliveries(args.status, args.channel, max(1, args.limit))
    finally:
        engine.dispose()
    print(output.render(rows, DELIVERY_COLUMNS, args.format))
    return EXIT_OK


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo.run import run_demo

    return run_demo(settings, interval=args.interval, cycles=args.cycles, seed=args.seed)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
