"""PURE: the listing's timestamps (`requested_on`) -> UTC-aware datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_TIMESTAMP = re.compile(
    r"(?P<head>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)"
    r"(?:\.(?P<frac>\d{1,7}))?(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)


# The instants every UTC offset can show (offsets stay within a day): a date the product stores
# can always be converted to UTC, to ALERT_TIMEZONE and back, and read from either database.
_EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
_LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)

# Flinks' own shape (.NET, UTC), every character checked: "2024-02-29T14:24:42.6055680Z".
_FLINKS_SHAPE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", re.ASCII)


def parse_timestamp(value: object) -> datetime:
    """ISO 8601 with 0-7 fractional digits (.NET writes 7) and Z, an offset or none (UTC),
    from 0001-01-02 to 9999-12-30 in UTC: ValueError for anything else. Flinks' own shape
    takes a short cut (a fifth of the time: 0.2 s of a 100,000-row first sync); any other
    string, or one the short cut does not take, takes the exact path: the same answer."""
    if type(value) is str and _FLINKS_SHAPE.fullmatch(value) is not None:
        try:
            # 3.11 reads Z as UTC and drops the 7th fractional digit, as the exact path does.
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass  # no such day or hour: the exact path raises its own error
        else:
            if _EARLIEST <= parsed <= _LATEST:
                return parsed
    return exact_timestamp(value)


def exact_timestamp(value: object) -> datetime:
    """parse_timestamp without its short cut."""
    if not isinstance(value, str) or (match := _TIMESTAMP.fullmatch(value)) is None:
        raise ValueError("not an ISO 8601 timestamp")
    frac = (match["frac"] or "")[:6]  # Python keeps microseconds: the 7th digit is dropped
    tz = match["tz"] or "+00:00"
    text = match["head"] + (f".{frac.ljust(6, '0')}" if frac else "")
    parsed = datetime.fromisoformat(text + ("+00:00" if tz.upper() == "Z" else tz))
    try:
        utc = parsed.astimezone(UTC)  # 0001-01-01T00:00+01:00 is before year 1 in UTC
    except OverflowError:
        raise ValueError("out of range once in UTC") from None
    if not _EARLIEST <= utc <= _LATEST:
        raise ValueError("out of range (0001-01-02 to 9999-12-30 UTC)")
    return utc
