"""PURE: how errors and times are written for people and logs, one way everywhere."""

from __future__ import annotations

from datetime import UTC, datetime


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
