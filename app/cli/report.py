"""`flinkswatch report`: time to ACTIVE and time in each status per provider, then what is stuck
now, longest first (SPEC 4, 9). Read-only: it never creates nor migrates a database."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from app.cli import output
from app.cli.exits import EXIT_OK
from app.core.cells import csv_cell
from app.core.text import iso_z

if TYPE_CHECKING:
    from app.config.settings import Settings
    from app.core.report import ProviderStats, Report, Stuck, Summary

STATS_COLUMNS = (
    "provider_name",
    "provider_id",
    "registrations",
    "measure",
    "count",
    "censored",
    "median",
    "p90",
)
STUCK_COLUMNS = (
    "client_name",
    "client_id",
    "provider_name",
    "provider_id",
    "status",
    "in_status",
    "since",
    "requested",
)
CSV_COLUMNS = (
    "section",  # statistics or stuck: one header for both, so any CSV reader takes it
    "provider_id",
    "provider_name",
    "registrations",
    "measure",
    "count",
    "censored",
    "median_seconds",
    "p90_seconds",
    "client_id",
    "client_name",
    "status",
    "status_since",
    "seconds_in_status",
    "stuck_after_seconds",
    "requested_on",
    "status_since_exact",
    "waiting_seconds",
)


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report", help="time to ACTIVE and in each status per provider, what is stuck now"
    )
    report.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="output format: table (the default), json or csv",
    )
    report.set_defaults(func=cmd_report)


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from app.db.reports import load_report
    from app.wiring import build_read_engine

    engine = build_read_engine(settings)
    try:
        report = load_report(engine, datetime.now(UTC), settings.stuck_after)
    finally:
        engine.dispose()
    if args.format == "json":
        print(json.dumps(as_json(report, settings), indent=2, ensure_ascii=False))
    elif args.format == "csv":
        print(as_csv(report))
    else:
        print(as_table(report, settings.stuck_after, settings.alert_timezone))
    return EXIT_OK


# ---- machine formats: seconds and ISO 8601 UTC ----------------------------------------------
def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else round(value.total_seconds())


def _summary(summary: Summary) -> dict[str, int | None]:
    return {
        "count": summary.count,
        "censored": summary.censored,
        "median_seconds": _seconds(summary.median),
        "p90_seconds": _seconds(summary.p90),
    }


def _in_status(item: Stuck) -> str:
    """Exact: "9d"; a stay begun before the watcher looked: "≥ 2d" (the sum rule measured its
    waiting, which the requested column shows)."""
    from app.core.text import short_duration

    state = item.state
    if state.status_since_exact:
        return short_duration(item.in_status)
    return "≥ " + short_duration(max(timedelta(0), item.now - state.status_since))


def _stuck(item: Stuck) -> dict[str, object]:
    reg = item.state.registration
    return {
        "client_id": reg.client_id,
        "client_name": reg.client_name,
        "provider_id": reg.provider_id,
        "provider_name": reg.provider_name,
        "country": reg.country,
        "status": reg.registration_status,
        "status_since": iso_z(item.state.status_since),
        # at least this much when the stay is inexact (status_since_exact false)
        "seconds_in_status": _seconds(max(timedelta(0), item.now - item.state.status_since)),
        "stuck_after_seconds": _seconds(item.allowed),
        "requested_on": iso_z(reg.requested_on),
        "status_since_exact": item.state.status_since_exact,
        "waiting_seconds": _seconds(max(timedelta(0), item.now - reg.requested_on)),
    }


def as_json(report: Report, settings: Settings) -> dict[str, object]:
    providers = [
        {
            "provider_id": p.provider_id,
            "provider_name": p.provider_name,
            "registrations": p.registrations,
            "time_to_active": _summary(p.to_active),
            "time_in_status": {status: _summary(s) for status, s in p.in_status.items()},
        }
        for p in report.providers
    ]
    return {
        "generated_at": iso_z(report.now),
        "stuck_after_seconds": {k: _seconds(v) for k, v in settings.stuck_after.items()},
        "providers": providers,
        "stuck": [_stuck(item) for item in report.stuck],
    }


def _measures(p: ProviderStats) -> list[tuple[str, Summary]]:
    return [("to ACTIVE", p.to_active)] + [(f"in {s}", v) for s, v in p.in_status.items()]


def as_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()

    def write(row: Mapping[str, object]) -> None:  # a name a spreadsheet would run gets a '
        writer.writerow({k: csv_cell(v) for k, v in row.items()})

    for p in report.providers:
        for measure, summary in _measures(p):
            write(
                {
                    "section": "statistics",
                    "provider_id": p.provider_id,
                    "provider_name": p.provider_name,
                    "registrations": p.registrations,
                    "measure": measure,
                    **_summary(summary),
                }
            )
    for item in report.stuck:
        write({"section": "stuck", **_stuck(item)})
    return buffer.getvalue().rstrip("\n")


# ---- for people: short durations, dates in ALERT_TIMEZONE ---------------------------------
def as_table(report: Report, stuck_after: Mapping[str, timedelta], zone: tzinfo) -> str:
    from app.core.text import local_day, short_duration

    def span(value: timedelta | None) -> str:
        return "-" if value is None else short_duration(value)

    stats = [
        {
            "provider_name": p.provider_name,
            "provider_id": p.provider_id,
            "registrations": p.registrations,
            "measure": measure,
            "count": s.count,
            "censored": s.censored,
            "median": span(s.median),
            "p90": span(s.p90),
        }
        for p in report.providers
        for measure, s in _measures(p)
    ]
    stuck = [
        {
            "client_name": item.state.registration.client_name,
            "client_id": item.state.registration.client_id,
            "provider_name": item.state.registration.provider_name,
            "provider_id": item.state.registration.provider_id,
            "status": item.state.registration.registration_status,
            "in_status": _in_status(item),
            "since": local_day(item.state.status_since, zone, report.now),
            "requested": local_day(item.state.registration.requested_on, zone, report.now),
        }
        for item in report.stuck
    ]
    lines = [
        "Time to ACTIVE (from requested_on) and time in each status, per provider",
        output.render(stats, STATS_COLUMNS, "table"),
        "",
    ]
    if not stuck_after:
        return "\n".join([*lines, "Stuck now: not checked (STUCK_AFTER is empty)"])
    rules = ", ".join(f"{k}={short_duration(v)}" for k, v in stuck_after.items())
    heading = f"Stuck now: {len(stuck)}, longest first (STUCK_AFTER {rules}; dates in {zone})"
    return "\n".join([*lines, heading, output.render(stuck, STUCK_COLUMNS, "table")])
