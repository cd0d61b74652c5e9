"""PURE: the Retry-After header (RFC 9110 10.2.3), for every client that honours it."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# RFC 9110 says delta-seconds is a non-negative integer; a fraction is tolerated, a sign,
# "inf" or "nan" are not.
_DELTA = re.compile(r"\d+(?:\.\d+)?")


def retry_after_seconds(
    value: object, now: datetime | None = None, *, low: float = 0.0, high: float = math.inf
) -> float | None:
    """Seconds to wait from delta-seconds ("120", "1.5") or an HTTP-date, clamped to
    [low, high] (each caller knows its own bounds); None if absent or unreadable."""
    seconds = _seconds(value, now)
    return None if seconds is None else min(max(seconds, low), high)


def header(headers: Mapping[str, object]) -> object:
    """The Retry-After value of a header mapping, whatever its case; the first of a list."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _seconds(value: object, now: datetime | None) -> float | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if _DELTA.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about local time
        when = when.replace(tzinfo=UTC)
    return (when - (now or datetime.now(UTC))).total_seconds()
