"""The log lines of one poll cycle (app.watch.poll)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from app.core.diff import DiffResult
from app.domain import CycleResult, Event, EventKind, NoticePlan, Outcome

log = logging.getLogger("app.poll")


def log_done(result: CycleResult, seconds: float) -> None:
    log.log(
        logging.WARNING if result.outcome is not Outcome.OK else logging.INFO,
        "poll.done outcome=%s rows=%d skipped=%d events=%d delivered=%d "
        "delivery_failures=%d duration_ms=%d%s",
        result.outcome,
        result.rows,
        result.skipped,
        result.events,
        result.delivered,
        result.delivery_failures,
        seconds * 1000,
        f" error={result.error!r}" if result.error else "",
    )


def log_guard(result: DiffResult) -> None:
    guard = result.guard
    if guard.held:
        log.warning(
            "poll.removals_held listed=%d present=%d new_hold=%s (flinkswatch accept-removals)",
            guard.listed,
            guard.present,
            guard.opens,
        )
    elif guard.closes:
        log.info("poll.removal_hold_ended listed=%d present=%d", guard.listed, guard.present)


def log_events(events: Sequence[Event]) -> None:
    # Every event is in the history and in the alerts; one log line each is for debugging
    # only (a mass change of 10,000 rows would otherwise log 10,000 lines per cycle).
    if not log.isEnabledFor(logging.DEBUG):
        return
    for event in (e for e in events if e.event is not EventKind.BASELINE):
        log.debug(
            "event.%s client_id=%s provider_id=%d from=%s to=%s",
            event.event,
            event.client_id,
            event.provider_id,
            event.from_status,
            event.to_status,
        )


def log_notices(plans: Sequence[NoticePlan]) -> None:
    for plan in plans:
        notice = plan.notice
        log.warning(
            "watcher.%s cause=%s failures=%d since=%s repeat=%s",
            notice.kind,
            notice.cause or "-",
            notice.failures,
            notice.since.isoformat() if notice.since else "-",
            notice.repeat,
        )
