"""DIGEST_SCHEDULE: a 5-field cron expression in ALERT_TIMEZONE, read by APScheduler's own parser
(imported when a schedule is set, so `flinkswatch --help` stays light), and the one question a
start asks of it: which scheduled time, at or before now, is the latest."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

# How far back `latest_fire` looks for a missed time: a schedule firing less than yearly has
# nothing to catch up on after a longer outage than this.
_LOOKBACK = (
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=8),
    timedelta(days=32),
    timedelta(days=367),
)


def cron_trigger(expression: str, zone: tzinfo) -> Any:
    """The CronTrigger of `expression`; ValueError with one readable line when it is wrong."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger.from_crontab(expression.strip(), timezone=zone)
    except (ValueError, KeyError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(
            f"{expression.strip()!r} is not a 5-field cron expression (minute hour day month"
            f" day-of-week, e.g. 0 9 * * MON): {reason}"
        ) from None


def latest_fire(trigger: Any, now: datetime) -> datetime | None:
    """The latest time the trigger fires at or before `now` (None within the look-back): the
    digest a start owes if none was recorded for it. Looks back in growing windows, so a
    schedule firing every minute costs as little as a weekly one."""
    for window in _LOOKBACK:
        fire = trigger.get_next_fire_time(None, now - window)
        if fire is None or fire > now:
            continue
        latest = fire
        while (fire := trigger.get_next_fire_time(latest, latest + timedelta(seconds=1))) and (
            fire <= now
        ):
            latest = fire
        return latest  # type: ignore[no-any-return]
    return None
