"""The read-only commands (`status`, `history`, `deliveries`; `routes` in routes.py): they never
create, migrate nor write a database, and name what a typo in a filter matched nothing for."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.cli import output
from app.cli.exits import EXIT_CONFIG, EXIT_OK
from app.core.ages import status_fields
from app.domain import EventKind

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from app.config.settings import Settings

EVENT_KINDS = tuple(kind.value for kind in EventKind)
FORMAT_HELP = "output format: table (the default), json or csv"
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


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = sub.add_parser("status", help="the current registrations")
    _filters(status, history=False)
    status.add_argument("--all", action="store_true", help="include removed registrations")
    status.set_defaults(func=cmd_status)

    history = sub.add_parser("history", help="the event history, newest last")
    _filters(history, history=True)
    history.set_defaults(func=cmd_history)

    deliveries = sub.add_parser("deliveries", help="the delivery outbox, newest first")
    deliveries.add_argument(
        "--status", choices=("pending", "sent", "failed"), help="only deliveries in this state"
    )
    deliveries.add_argument("--channel", help="only this channel, e.g. slack, email, slack:#nbc")
    deliveries.add_argument("--limit", type=int, default=200, help="rows to show (200)")
    deliveries.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help=FORMAT_HELP
    )
    deliveries.set_defaults(func=cmd_deliveries)

    from app.cli import routes

    routes.add_command(sub)


def _filters(parser: argparse.ArgumentParser, *, history: bool) -> None:
    parser.add_argument("--client-id", help="only this Data Consumer (client_id), exactly")
    parser.add_argument("--provider-id", type=int, help="only this provider, by its number")
    parser.add_argument("--provider", help="only this provider name, case-insensitive")
    parser.add_argument(
        "--status",
        help="registration status, e.g. ACTIVE (exact; history: the status moved from or to)",
    )
    if history:
        parser.add_argument("--event", help=f"event kind: {', '.join(EVENT_KINDS)}")
        parser.add_argument(
            "--since",
            help="events observed from then on: an ISO date or time in UTC (e.g. 2026-11-01)"
            " or a duration back from now (e.g. 7d, 12h)",
        )
    parser.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help=FORMAT_HELP
    )


def _since(text: str | None) -> datetime | None:
    from app.cli.since import parse_since

    return parse_since(text, datetime.now(UTC)) if text is not None else None


def _query(settings: Settings, args: argparse.Namespace, *, history: bool) -> int:
    from app.db import queries
    from app.wiring import build_read_engine

    event = getattr(args, "event", None)
    try:
        if event is not None and event not in EVENT_KINDS:
            raise ValueError(
                f"--event: unknown event kind {event!r} (choose from {', '.join(EVENT_KINDS)})"
            )
        since = _since(getattr(args, "since", None))
    except ValueError as exc:
        print(f"flinkswatch: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    engine = build_read_engine(settings)
    try:
        filters = queries.Filters(
            client_id=args.client_id,
            provider_id=args.provider_id,
            provider=args.provider,
            status=args.status,
            event=event,
            since=since,
            include_removed=getattr(args, "all", False),
        )
        rows = (queries.history if history else queries.current)(engine, filters)
        if not history:
            from app.db.acks import add_acknowledged

            rows = _with_ages(settings, engine, rows)
            add_acknowledged(engine, rows, datetime.now(UTC))
        known = queries.known_statuses(engine) if not rows and args.status else None
    finally:
        engine.dispose()
    columns = output.HISTORY_COLUMNS if history else output.STATUS_COLUMNS
    output.write(rows, columns, args.format, sys.stdout)
    if known is not None and args.status not in known:
        # Maybe a status Flinks has not documented, maybe a typo: say which it cannot be.
        seen = f" (seen: {', '.join(sorted(known))})" if known else ""
        print(
            f"flinkswatch: no registration has ever had status {args.status!r}{seen}",
            file=sys.stderr,
        )
    return EXIT_OK


def _with_ages(
    settings: Settings, engine: Engine, rows: list[dict[str, object]]
) -> list[dict[str, object]]:
    """SPEC 11's fields: waiting, stuck, late and expected (the providers' curves folded once)."""
    from app.core.expect import expectation_fields, outlooks
    from app.db.reports import provider_figures

    now = datetime.now(UTC)
    found = outlooks(
        provider_figures(engine, now) if rows else (),
        settings.late_after,
        settings.expect_min_activations,
    )
    for row in rows:  # in place: 100,000 rows are not copied twice
        row.update(status_fields(row, now, settings.stuck_after))
        row.update(expectation_fields(found, row, now))
    return rows


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    return _query(settings, args, history=False)


def cmd_history(settings: Settings, args: argparse.Namespace) -> int:
    return _query(settings, args, history=True)


def cmd_deliveries(settings: Settings, args: argparse.Namespace) -> int:
    from app.db.outbox import Outbox
    from app.wiring import build_read_engine

    engine = build_read_engine(settings)
    try:
        rows = Outbox(engine).list_deliveries(
            args.status, args.channel, min(max(1, args.limit), 10**6)
        )
    finally:
        engine.dispose()
    print(output.render(rows, DELIVERY_COLUMNS, args.format))
    return EXIT_OK
