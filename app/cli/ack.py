"""`flinkswatch ack CLIENT_ID PROVIDER_ID [--for DURATION] [--note TEXT] [--by NAME]` and
`ack --clear`: take a registration, silencing its stuck and late reminders until it moves, is
removed, or the duration passes; or lift that (SPEC 4 and 12)."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from app.cli.exits import EXIT_CONFIG, EXIT_OK

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from app.config.settings import Settings
    from app.db.acks import Planner, Taken


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ack = sub.add_parser(
        "ack", help="acknowledge a registration: no stuck or late reminder until it moves"
    )
    ack.add_argument("client_id", metavar="CLIENT_ID")
    ack.add_argument("provider_id", metavar="PROVIDER_ID", type=int)
    ack.add_argument(
        "--for", dest="duration", type=_duration, help="end after this long, e.g. 3d (default:"
        " when it moves)"
    )  # fmt: skip
    ack.add_argument("--note", help="what you are doing about it, shown with the name")
    ack.add_argument("--by", help="who takes it (default: your login name)")
    ack.add_argument("--clear", action="store_true", help="lift the acknowledgement")
    ack.set_defaults(func=cmd_ack)


def _duration(text: str) -> timedelta:
    from app.config.types import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError("a duration longer than 0, e.g. 7d")
    return value


def cmd_ack(settings: Settings, args: argparse.Namespace) -> int:
    from app.db import acks
    from app.wiring import build_read_engine

    now = datetime.now(UTC)
    key = (args.client_id, args.provider_id)
    request = acks.Request(
        key=key,
        by=args.by or _login(),
        note=args.note,
        until=now + args.duration if args.duration else None,
        clear=args.clear,
    )
    engine = build_read_engine(settings)
    try:
        taken = acks.take(engine, request, now, _planner(settings, engine))
    finally:
        engine.dispose()
    return _report(taken, args)


def _report(taken: Taken, args: argparse.Namespace) -> int:
    from app.db.acks import Outcome

    who = f"client {args.client_id!r} provider {args.provider_id}"
    if taken.outcome is Outcome.UNKNOWN:
        print(
            f"flinkswatch: no registration {who}: nothing recorded (see `flinkswatch status`)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if taken.outcome is Outcome.NOT_ACKNOWLEDGED:
        print(f"{who} is not acknowledged: nothing to clear")
        return EXIT_OK
    ack = taken.acknowledgement
    if args.clear or ack is None:
        print(f"acknowledgement of {who} lifted: its reminders resume")
        return EXIT_OK
    until = f"until {ack.until:%Y-%m-%d %H:%M} UTC" if ack.until else "until it moves"
    print(f"{who} acknowledged by {ack.by}, {until}" + (f": {ack.note}" if ack.note else ""))
    return EXIT_OK


def _planner(settings: Settings, engine: Engine) -> Planner | None:
    """Deliveries of the event when ALERT_EVENTS names `acknowledged`, as a cycle plans them."""
    from app.domain import EventKind

    if EventKind.ACKNOWLEDGED not in settings.alert_events:
        return None
    from app.core.routing import plan_deliveries
    from app.wiring import build_channels

    routes = [(c.name, c.filter) for c in build_channels(settings, engine)]
    return lambda event: plan_deliveries([event], routes, settings.alert_events)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "someone"
