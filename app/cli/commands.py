"""The `flinkswatch` command (SPEC 4). Exit: 0 done, 1 failed, 2 configuration, 3 degraded (rows
skipped, or a delivery failed), 4 another instance holds the lock."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from app import __version__, logs
from app.cli.exits import EXIT_CONFIG, EXIT_DEGRADED, EXIT_FAILED, EXIT_LOCKED, EXIT_OK
from app.domain import Outcome
from app.errors import ConfigError, DatabaseError, LockHeld

if TYPE_CHECKING:
    from app.config.settings import Settings

log = logging.getLogger("flinkswatch")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Imported once the command is known: `--help` and a typo never pay for pydantic.
    from app.config.settings import load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"flinkswatch: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.log_level, settings.log_format, settings.secret_values())
    command: Callable[[Settings, argparse.Namespace], int] = args.func
    if command is not cmd_check:  # `check` reports them among its own lines
        _warn_look_alikes()
    try:
        return command(settings, args)
    except ConfigError as exc:
        print(f"flinkswatch: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except LockHeld as exc:
        print(f"flinkswatch: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except DatabaseError as exc:
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


def _warn_look_alikes() -> None:
    """A variable that looks like a setting but is not one: named, never refused (SPEC 3)."""
    from app.config.unknown import unknown_settings_here

    for line in unknown_settings_here():
        log.warning("settings.unknown %s", line)


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
    sub.add_parser(
        "accept-removals", help="lift a mass-shrink hold: let the held removals happen"
    ).set_defaults(func=cmd_accept_removals)
    demo = sub.add_parser("demo", help="run against a simulated Flinks on a throwaway database")
    demo.add_argument(
        "--interval", type=_seconds, default=5, help="seconds between polls (5; at most 30 days)"
    )
    demo.add_argument("--cycles", type=_count, default=None, help="stop after N polls")
    demo.add_argument("--seed", type=int, default=None, help="seed of the simulated upstream")
    demo.set_defaults(func=cmd_demo)
    return parser


def _bounded(text: str, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= high:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and {high}")
    return value


def _seconds(text: str) -> int:
    from app.config.settings import MAX_POLL_INTERVAL_SECONDS

    return _bounded(text, MAX_POLL_INTERVAL_SECONDS)


def _count(text: str) -> int:
    return _bounded(text, 1_000_000)


def _inspect_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.cli import ack, backup, digest, reads, report

    reads.add_commands(sub)
    report.add_command(sub)
    backup.add_command(sub)
    digest.add_command(sub)
    ack.add_command(sub)
    notify = sub.add_parser("notify-test", help="send a sample alert to every configured channel")
    notify.add_argument(
        "--dry-run", action="store_true", help="print the rendered messages, send nothing"
    )
    notify.set_defaults(func=cmd_notify_test)


# ---- commands -----------------------------------------------------------------------------
def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    from app.wiring import build_app
    from app.wiring.service import build_service

    app = build_app(settings)  # refuses what `check` refuses, before anything is opened
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
    from app.db import engine as db
    from app.wiring import build_engine

    engine = build_engine(settings)
    try:
        db.migrate(engine)
        print(f"database schema at {db.current_revision(engine)}")
    finally:
        engine.dispose()
    return EXIT_OK


def cmd_check(settings: Settings, _args: argparse.Namespace) -> int:
    from app.cli.checks import Check, service_checks, settings_checks, settings_warnings

    def report(checks: Iterable[Check]) -> list[Check]:
        failed = []
        for check in checks:
            print(f"{'ok  ' if check.ok else 'FAIL'}  {check.line}")
            failed += [] if check.ok else [check]
        return failed

    for line in settings_warnings(settings):  # a warning never changes the exit status
        print(f"WARN  settings: {line}")
    # Nothing is reached while a setting is wrong: a configuration error, as for `run`.
    if report(settings_checks(settings)):
        return EXIT_CONFIG
    failed = report(service_checks(settings))
    if any(check.config for check in failed):  # what `run` refuses to start on (AUTO_MIGRATE)
        return EXIT_CONFIG
    return EXIT_FAILED if failed else EXIT_OK


def cmd_notify_test(settings: Settings, args: argparse.Namespace) -> int:
    from app.cli.checks import refuse_on_problems
    from app.cli.sample import notify_test
    from app.wiring import build_channels

    # A half-configured channel is off: say so rather than "sent" to the console instead.
    if refuse_on_problems(settings, "nothing sent: fix the settings above"):
        return EXIT_CONFIG
    # No engine: a sample never starts a Slack thread nor touches the outbox.
    failures = notify_test(build_channels(settings), dry_run=args.dry_run)
    return EXIT_FAILED if failures else EXIT_OK


def cmd_accept_removals(settings: Settings, _args: argparse.Namespace) -> int:
    from app.cli.accept import accept_removals

    return accept_removals(settings)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo.run import run_demo

    return run_demo(settings, interval=args.interval, cycles=args.cycles, seed=args.seed)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
