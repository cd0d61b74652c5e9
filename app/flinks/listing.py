"""PURE: a listing body -> an Answer (rows validated, bad rows skipped and logged), and the
error hierarchy of the Flinks client::

    FlinksError                 base; every message is one line with no secret and no token
     +-- FlinksAuthError        the token endpoint refused the credentials (400/401/403)
     +-- FlinksUnavailable      network error, timeout, 429 or 5xx once the retries ran out
     +-- FlinksRequestError     another 4xx (the listing after one token renewal, a wrong URL)
     +-- FlinksBadAnswer        the body is not what the API documents (not a JSON array, ...)
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from sys import intern
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, StrictStr, StringConstraints
from pydantic import ValidationError as _ValidationError

from app.domain import Answer, Key, Registration

log = logging.getLogger("app.flinks")

_MAX_INT64 = 2**63 - 1  # provider_id is a BIGINT column


class FlinksError(Exception):
    """Base of every error of this module."""

    kind = "flinks"  # the failure_kind of a cycle (logs, metrics, poll_runs)


class FlinksAuthError(FlinksError):
    """The token endpoint refused the credentials."""

    kind = "flinks_auth"  # the failure_kind of a cycle (logs, metrics, poll_runs)


class FlinksUnavailable(FlinksError):
    """Flinks could not be reached or kept failing transiently."""

    kind = "flinks_unavailable"  # the failure_kind of a cycle (logs, metrics, poll_runs)


class FlinksRequestError(FlinksError):
    """Flinks refused the request for a reason a retry will not fix."""

    kind = "flinks_request"  # the failure_kind of a cycle (logs, metrics, poll_runs)


class FlinksBadAnswer(FlinksError):
    """The body is not what the API documents."""

    kind = "flinks_bad_answer"  # the failure_kind of a cycle (logs, metrics, poll_runs)


_TIMESTAMP = re.compile(
    r"(?P<head>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)"
    r"(?:\.(?P<frac>\d{1,7}))?(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)


def parse_timestamp(value: object) -> datetime:
    """ISO 8601 with 0-7 fractional digits (.NET writes 7) and Z, an offset or none (UTC)."""
    if not isinstance(value, str) or (match := _TIMESTAMP.fullmatch(value)) is None:
        raise ValueError("not an ISO 8601 timestamp")
    frac = (match["frac"] or "")[:6]  # Python keeps microseconds: the 7th digit is dropped
    tz = match["tz"] or "+00:00"
    text = match["head"] + (f".{frac.ljust(6, '0')}" if frac else "")
    parsed = datetime.fromisoformat(text + ("+00:00" if tz.upper() == "Z" else tz))
    return parsed.astimezone(UTC)


def _provider_id(value: object) -> int:
    # JSON says integer; integral floats and digit strings are accepted because some gateways
    # re-encode numbers, and the key stays the same int. Booleans are never ids.
    if isinstance(value, bool):
        raise ValueError("boolean is not an integer")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("not an integer")
    if not 0 <= value <= _MAX_INT64:
        raise ValueError("out of range")
    return value


# Limits follow the columns of app/db/tables.py, so a valid row always fits the database;
# the pattern asks for one non-blank character (checked by pydantic-core: fast on 100k rows).
_ClientId = Annotated[StrictStr, StringConstraints(max_length=128, pattern=r"\S")]
_Country = Annotated[StrictStr, StringConstraints(max_length=16)]
_Status = Annotated[StrictStr, StringConstraints(max_length=64, pattern=r"\S")]


class _Row(BaseModel):
    """One listing row as documented; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    client_id: _ClientId
    client_name: StrictStr
    provider_id: Annotated[int, PlainValidator(_provider_id)]
    provider_name: StrictStr
    country: _Country
    registration_status: _Status
    requested_on: Annotated[datetime, PlainValidator(parse_timestamp)]


def snippet(value: object, limit: int = 40) -> str:
    """A short, printable, single-line rendering of untrusted text for logs and messages."""
    if isinstance(value, bytes):
        value = value[: limit * 4].decode("utf-8", "backslashreplace")
    text = value if isinstance(value, str) else repr(value)
    short = text[:limit]
    short = "".join(c if c.isprintable() else repr(c)[1:-1] for c in short)
    return short if len(text) <= limit else short + "..."


def _row_key(item: dict[str, Any]) -> str:
    client_id = item.get("client_id")
    try:
        provider = str(_provider_id(item.get("provider_id")))
    except ValueError:
        provider = "?"
    readable = isinstance(client_id, str) and client_id.strip()
    return f"{snippet(client_id) if readable else '?'}/{provider}"


_REASONS = {"missing": "missing", "string_type": "not a string", "string_pattern_mismatch": "blank"}


def _load_array(body: bytes) -> list[Any]:
    try:
        # RFC 8259: JSON between systems is UTF-8 (a BOM is tolerated); no guessing of UTF-16.
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FlinksBadAnswer(
            f"Flinks answer is not UTF-8 (byte at position {exc.start})"
        ) from None
    except ValueError as exc:
        raise FlinksBadAnswer(
            f'Flinks answer is not valid JSON: {exc} (starts with "{snippet(body)}")'
        ) from None
    if not isinstance(data, list):
        raise FlinksBadAnswer(f"Flinks answer is not a JSON array (got {_json_type(data)})")
    if _UNSTORABLE_ESCAPE.search(body):
        data = [_storable(item) for item in data]
    return data


# JSON may escape a NUL or a lone UTF-16 surrogate; neither can be stored (PostgreSQL text has
# no NUL, UTF-8 has no surrogates), so one such row would fail every cycle. One regex pass over
# the raw body finds the (rare) answers that need the slow, per-value clean-up below.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _storable(value: Any) -> Any:
    """Strings with NUL or lone surrogates replaced by U+FFFD, in any nesting."""
    if isinstance(value, str):
        cleaned = value.replace("\x00", "\ufffd")
        # Paired surrogates were already joined by the JSON decoder: what is left is lone.
        return cleaned.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _json_type(value: object) -> str:
    names = {dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _validate_row(item: object) -> Registration | None:
    if not isinstance(item, dict):
        log.warning(
            "flinks.row_skipped key=? field=(row) reason=not an object (got %s)", _json_type(item)
        )
        return None
    try:
        row = _Row.model_validate(item)
    except _ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in error["loc"]) or "(row)"
        reason = _REASONS.get(error["type"]) or error["msg"].removeprefix("Value error, ")
        log.warning("flinks.row_skipped key=%s field=%s reason=%s", _row_key(item), field, reason)
        return None
    # Interned: names, ids, countries and statuses repeat across rows and across polls, so
    # one copy serves every row and the state kept from the last cycle (docs/performance.md).
    return Registration(
        intern(row.client_id),
        intern(row.client_name),
        row.provider_id,
        intern(row.provider_name),
        intern(row.country),
        intern(row.registration_status),
        row.requested_on,
    )


def parse_answer(body: bytes) -> Answer:
    """Validate a listing body: FlinksBadAnswer unless it is a JSON array; invalid rows are
    skipped (logged, counted); duplicate keys keep the latest requested_on; rows sorted by key."""
    items = _load_array(body)
    kept: dict[Key, Registration] = {}
    skipped = 0
    for index, item in enumerate(items):
        # Drop each parsed dict once it is validated: at 100,000 rows the dicts and the
        # Registrations built from them would otherwise all be alive at the same time.
        items[index] = None
        row = _validate_row(item)
        if row is None:
            skipped += 1
            continue
        previous = kept.get(row.key)
        if previous is not None:
            log.warning("flinks.duplicate_row key=%s/%d", snippet(row.client_id), row.provider_id)
            if previous.requested_on > row.requested_on:
                continue  # on a tie the later row wins: it is what Flinks wrote last
        kept[row.key] = row
    return Answer(rows=tuple(kept[key] for key in sorted(kept)), skipped=skipped)
