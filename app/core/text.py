"""PURE: how errors and times are written for people and logs, one way everywhere."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

# The bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): one can
# make a name display as something else ("Trojan Source"), so they are treated as controls.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_bidi(text: str) -> str:
    """`text` with its bidirectional controls taken out (the web page shows what is left).
    A str subclass (markupsafe's Markup) keeps its type."""
    # search() first: a fifth of translate()'s time, and almost no text holds one.
    return text if _BIDI_RE.search(text) is None else text.translate(_NO_BIDI)


_NO_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))


def one_line(error: BaseException | str, limit: int = 300) -> str:
    """The first non-blank line of an error, white space folded, cut to `limit` characters.
    An exception is prefixed with its type: `OperationalError: disk I/O error`."""
    text = str(error)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = " ".join(first.split())
    if isinstance(error, BaseException):
        first = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return first[:limit]


def iso_z(value: datetime) -> str:
    """ISO 8601 in UTC with a Z: `2026-11-01T09:30:00Z`."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def short_duration(delta: timedelta) -> str:
    """The two largest units of a duration, for tables: `9d 4h`, `3h 20m`, `45s`."""
    seconds = max(0, int(delta.total_seconds()))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        elif parts:
            break  # `2d 0h` says less than `2d`
    return " ".join(parts[:2])


def local_day(value: datetime, zone: tzinfo, now: datetime) -> str:
    """A date people read, in their zone: `2026-02-10 (20 days ago)`. The database keeps UTC;
    "days ago" counts calendar days in `zone`."""
    day, today = value.astimezone(zone).date(), now.astimezone(zone).date()
    days = (today - day).days
    if days == 0:
        ago = "today"
    elif days > 0:
        ago = f"{days} day{'s' if days != 1 else ''} ago"
    else:
        ago = f"in {-days} day{'s' if days != -1 else ''}"
    return f"{day.isoformat()} ({ago})"
