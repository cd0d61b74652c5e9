"""`--since` of `history` and `digest` (SPEC 4): a date, a date and time, or a duration back
from now in the syntax of STUCK_AFTER (`7d`, `12h`, `30m`). Words such as `yesterday` are
refused with the forms that are accepted: a date says the same without guessing a zone's day."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

FORMS = "a date (2026-11-01), a date and time (2026-11-01T09:00) or a duration back from now (7d)"


def parse_since(text: str, now: datetime, zone: tzinfo = UTC) -> datetime:
    """The moment `text` names, in UTC; a date without an offset is in `zone`. ValueError with
    one line naming the accepted forms."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    else:
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
    from app.config.types import parse_duration  # pydantic's: `--help` does not load it

    try:
        return now - parse_duration(value)
    except ValueError:
        raise ValueError(
            f"--since: not an ISO 8601 date or time nor a duration: {text!r}; give {FORMS}"
        ) from None
