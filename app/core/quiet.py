"""PURE: quiet hours (SPEC 9). `QUIET_HOURS` windows in ALERT_TIMEZONE, which alerts break
through them, and when a held alert's window ended. Windows are laid on the wall clock of each
day and only then turned into UTC instants, so a daylight-saving change neither loses nor
doubles one: each (day, window) is exactly one interval."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.core.digest import Digest
from app.delivery import PendingDelivery
from app.domain import BaselineSummary, Direction, EventKind, RemovalsHeld, WatcherNotice, direction

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BACKWARD = "backward"  # a backward status move
WATCHER = "watcher"  # blind / recovered / channel notices, removals held
_TIMES = re.compile(
    r"^(?:(?P<days>[a-z,\- ]+?)\s+)?(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)


@dataclass(frozen=True, slots=True)
class Window:
    """From `start` to `end` minutes after midnight (end 1440 is "24:00"; an end at or before
    the start crosses midnight), on the days it starts (0 = Monday; None: every day)."""

    start: int
    end: int
    days: frozenset[int] | None = None

    def intervals(self, around: datetime, zone: tzinfo) -> Iterable[tuple[datetime, datetime]]:
        """The UTC intervals of this window that start from the local day before `around` to a
        week after it (a window lasts at most a day; a week bounds a chain of them)."""
        local = around.astimezone(zone).date()
        for offset in range(-1, 8):
            day = local + timedelta(days=offset)
            if self.days is not None and day.weekday() not in self.days:
                continue
            start = _instant(day, self.start, zone)
            end_day = day if self.end > self.start else day + timedelta(days=1)
            yield start, _instant(end_day, self.end, zone)


def _instant(day: date, minutes: int, zone: tzinfo) -> datetime:
    """A wall-clock time of `day` as an aware instant. A time in a spring-forward gap is read
    with the offset before the change (fold=0), as Python does; 24:00 is the next midnight."""
    day += timedelta(days=minutes // 1440)
    minutes %= 1440
    return datetime.combine(day, time(minutes // 60, minutes % 60), zone).astimezone(UTC)


def quiet_interval(
    at: datetime, windows: Iterable[Window], zone: tzinfo
) -> tuple[datetime, datetime] | None:
    """The quiet interval `at` falls in (start inclusive, end exclusive), joined with any that
    overlaps or follows it without a gap; None when `at` is not quiet."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(i for w in windows for i in w.intervals(at, zone)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return next(((s, e) for s, e in merged if s <= at < e), None)


def parse_quiet_hours(text: str) -> tuple[Window, ...]:
    """`mon-fri 19:00-08:00, sat,sun 00:00-24:00` -> windows. Commas separate windows, and
    also the days of one (a part with days and no times belongs to the next part)."""
    windows: list[Window] = []
    pending_days: list[str] = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        if not any(ch.isdigit() for ch in part):
            pending_days.append(part)
            continue
        match = _TIMES.match(part)
        if match is None:
            raise ValueError(f"{part!r} is not a window such as mon-fri 19:00-08:00")
        days_text = ",".join([*pending_days, match["days"] or ""]).strip(",")
        pending_days = []
        start, end = _minutes(match["start"]), _minutes(match["end"])
        if start == end:
            raise ValueError(f"{part!r}: a window cannot start and end at the same time")
        windows.append(Window(start, end, _days(days_text) if days_text else None))
    if pending_days:
        raise ValueError(f"{', '.join(pending_days)!r} has days but no HH:MM-HH:MM")
    return tuple(windows)


def _minutes(text: str) -> int:
    hours, minutes = (int(x) for x in text.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes


def _days(text: str) -> frozenset[int]:
    found: set[int] = set()
    for item in (i.strip() for i in text.split(",")):
        first, _, last = (s.strip()[:3] for s in item.partition("-"))
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"{item!r} is not a day or a range of days such as mon-fri")
        a, b = DAYS.index(first), DAYS.index(last or first)
        found.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(found)


def breakthrough_kinds(text: str) -> frozenset[str]:
    """QUIET_BREAKTHROUGH: `backward`, `watcher`, or any event kind."""
    allowed = {BACKWARD, WATCHER, *(k.value for k in EventKind)}
    kinds = frozenset(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = sorted(kinds - allowed)
    if unknown:
        raise ValueError(f"unknown {', '.join(unknown)}: use {', '.join(sorted(allowed))}")
    return kinds


def labels(pending: PendingDelivery) -> frozenset[str]:
    """What an owed alert is, in QUIET_BREAKTHROUGH's words."""
    if pending.event is None:
        held = isinstance(pending.summary, (WatcherNotice, RemovalsHeld))
        return frozenset({WATCHER}) if held else frozenset({"baseline"})
    event = pending.event
    found = {event.event.value}
    moved = event.event is EventKind.STATUS_CHANGED
    if moved and direction(event.from_status, event.to_status) is Direction.BACKWARD:
        found.add(BACKWARD)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """QUIET_HOURS in ALERT_TIMEZONE with QUIET_BREAKTHROUGH; no windows: never quiet."""

    windows: tuple[Window, ...] = ()
    zone: tzinfo = UTC
    breakthrough: frozenset[str] = frozenset({BACKWARD, EventKind.REMOVED.value, WATCHER})

    def quiet_at(self, now: datetime) -> bool:
        return bool(self.windows) and quiet_interval(now, self.windows, self.zone) is not None

    def breaks_through(self, pending: PendingDelivery) -> bool:
        """A digest always does: its time was chosen (DIGEST_SCHEDULE) or it was asked for."""
        return isinstance(pending.summary, Digest) or bool(labels(pending) & self.breakthrough)

    def held_until(self, pending: PendingDelivery, now: datetime) -> datetime | None:
        """When the quiet interval this alert was recorded in ended, if it has (a catch-up)."""
        if not self.windows or pending.created_at is None or self.breaks_through(pending):
            return None
        found = quiet_interval(pending.created_at, self.windows, self.zone)
        return found[1] if found is not None and found[1] <= now else None


@dataclass(frozen=True, slots=True)
class CatchUp(BaselineSummary):
    """Stands for the alerts held in quiet hours: their one catch-up message per channel."""

    until: datetime | None = None  # when the quiet interval ended
