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
from datetime import UTC, datetime, timedelta
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


# The instants every UTC offset can show (offsets stay within a day): a date the product stores
# can always be converted to UTC, to ALERT_TIMEZONE and back, and read from either database.
_EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
_LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def parse_timestamp(value: object) -> datetime:
    """ISO 8601 with 0-7 fractional digits (.NET writes 7) and Z, an offset or none (UTC),
    from 0001-01-02 to 9999-12-30 in UTC: ValueError for anything else."""
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


def _provider_id(value: object) -> int:
    # JSON says integer; integral floats and digit strings are accepted because some gateways
    # re-encode numbers, and the key stays the same int. Booleans are never ids.
    if isinstance(value, bool):
        raise ValueError("boolean is not an integer")
    if isinstance(value, _Unreadable):
        raise ValueError(value.reason)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value.lstrip("0")) > len(str(_MAX_INT64)):
            raise ValueError("out of range")
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
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FlinksBadAnswer(
            f"Flinks answer is not UTF-8 (byte at position {exc.start})"
        ) from None
    try:
        data = _loads(text)
    except RecursionError:
        data = _load_deep_array(text)
    except ValueError as exc:
        raise _not_json(exc, body) from None
    if not isinstance(data, list):
        raise FlinksBadAnswer(f"Flinks answer is not a JSON array (got {_json_type(data)})")
    if _UNSTORABLE_ESCAPE.search(body):
        data = [_storable(item) for item in data]
    return data


def _not_json(exc: ValueError, body: bytes) -> FlinksBadAnswer:
    return FlinksBadAnswer(
        f'Flinks answer is not valid JSON: {exc} (starts with "{snippet(body)}")'
    )


class _Unreadable:
    """A valid JSON value that Python cannot hold (an integer of over 4,300 digits, a value
    nested deeper than the decoder's recursion limit). Every field refuses it, so only its row
    is skipped; in an unknown field it is ignored like any other value."""

    __slots__ = ("kind", "reason")

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind  # the JSON type, for log lines
        self.reason = reason

    def __repr__(self) -> str:
        return f"<{self.reason}>"


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:
        # The only other ValueError is int()'s digit limit (CVE-2020-10735): read again, slowly,
        # with such numbers as _Unreadable. The common answer never pays for this.
        return json.loads(text, parse_int=_int_or_unreadable)


def _int_or_unreadable(digits: str) -> int | _Unreadable:
    try:
        return int(digits)
    except ValueError:
        return _Unreadable("number", "out of range")


# A JSON string, or a bracket or comma outside strings: enough to find the elements of an array.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_JSON_SPACE = " \t\n\r"


def _load_deep_array(text: str) -> list[Any]:
    """The array read element by element, after json.loads hit its recursion limit: an element
    nested too deeply becomes _Unreadable (its row is skipped), the others are read as usual."""
    stripped = text.strip(_JSON_SPACE)
    elements = _array_elements(stripped) if stripped.startswith("[") else None
    if elements is None:
        raise FlinksBadAnswer(
            f'Flinks answer is not a JSON array (nested too deeply to read; starts with "'
            f'{snippet(stripped)}")'
        )
    items: list[Any] = []
    for element in elements:
        try:
            items.append(_loads(element))
        except RecursionError:
            kind = "object" if element.lstrip(_JSON_SPACE).startswith("{") else "array"
            items.append(_Unreadable(kind, "nested too deeply"))
        except ValueError as exc:
            raise _not_json(exc, element.encode()) from None
    return items


def _array_elements(text: str) -> list[str] | None:
    """The texts between the commas of the top-level array `text`; None if it does not end."""
    depth, start = 0, 1
    elements: list[str] = []
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
        elif token in ("]", "}"):
            depth -= 1
            if depth == 0:
                if match.end() != len(text):
                    return None  # something after the array
                last = text[start : match.start()]
                if elements or last.strip(_JSON_SPACE):
                    elements.append(last)
                return elements
        elif token == "," and depth == 1:
            elements.append(text[start : match.start()])
            start = match.end()
    return None


# JSON may escape a NUL or a lone UTF-16 surrogate; neither can be stored (PostgreSQL text has
# no NUL, UTF-8 has no surrogates), so one such row would fail every cycle. One regex pass over
# the raw body finds the (rare) answers that need the slow, per-value clean-up below.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _storable(item: Any) -> Any:
    """An element with NUL or lone surrogates replaced by U+FFFD in its own strings and in the
    names and string values of its fields: the values a row keeps are never nested, and a
    nested value's depth is bounded only by the decoder's recursion limit."""
    if isinstance(item, dict):
        return {_clean(k): _clean(v) if isinstance(v, str) else v for k, v in item.items()}
    return _clean(item) if isinstance(item, str) else item


def _clean(text: str) -> str:
    cleaned = text.replace("\x00", "\ufffd")
    # Paired surrogates were already joined by the JSON decoder: what is left is lone.
    return cleaned.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number"}


def _json_type(value: object) -> str:
    if isinstance(value, _Unreadable):
        return value.kind
    if value is None:
        return "null"
    return "number" if type(value) is float else _JSON_TYPES.get(type(value), type(value).__name__)


def _validate_row(item: object) -> Registration | None:
    if isinstance(item, _Unreadable) and item.kind == "object":
        log.warning("flinks.row_skipped key=? field=(row) reason=%s", item.reason)
        return None
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
    skipped (logged, counted); identical duplicates are one row, while different rows for one
    key make that key invalid for this answer (all its rows skipped); rows sorted by key. The
    result never depends on the order of the rows."""
    items = _load_array(body)
    kept: dict[Key, Registration] = {}
    conflicts: dict[Key, list[Registration]] = {}
    repeats: dict[Key, int] = {}  # identical duplicates, in case the key conflicts later
    skipped = 0
    for index, item in enumerate(items):
        # Drop each parsed dict once it is validated: at 100,000 rows the dicts and the
        # Registrations built from them would otherwise all be alive at the same time.
        items[index] = None
        row = _validate_row(item)
        if row is None:
            skipped += 1
            continue
        key = row.key
        previous = kept.get(key)
        if previous is None:
            if key in conflicts:
                conflicts[key].append(row)
            else:
                kept[key] = row
        elif previous == row:
            repeats[key] = repeats.get(key, 0) + 1
            log.debug("flinks.duplicate_row key=%s/%d identical", snippet(key[0]), key[1])
        else:
            # Which of two different rows is the truth cannot be told from the answer, and
            # picking one by order or requested_on flaps when Flinks reorders its rows.
            conflicts[key] = [kept.pop(key), row]
    for key in sorted(conflicts):
        rows = conflicts[key]
        skipped += len(rows) + repeats.get(key, 0)
        _log_conflict(key, rows, len(rows) + repeats.get(key, 0))
    return Answer(rows=tuple(kept[key] for key in sorted(kept)), skipped=skipped)


def _log_conflict(key: Key, rows: list[Registration], count: int) -> None:
    statuses = sorted({row.registration_status for row in rows})
    fields = [
        name
        for name in Registration.__dataclass_fields__
        if len({getattr(row, name) for row in rows}) > 1
    ]
    log.warning(
        "flinks.conflicting_rows key=%s/%d rows=%d statuses=%s fields=%s: the key is skipped "
        "for this answer, its stored state is kept",
        snippet(key[0]),
        key[1],
        count,
        ",".join(snippet(status) for status in statuses),
        ",".join(fields),
    )
