"""PURE: a listing body -> an Answer (rows validated, bad rows skipped and logged). The body
is read by app.flinks.body; the errors are app.flinks.errors (re-exported here)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from sys import intern
from typing import Annotated, Any

import msgspec
from pydantic import BaseModel, ConfigDict, PlainValidator, StrictStr, StringConstraints
from pydantic import ValidationError as _ValidationError

from app.domain import Answer, Key, Registration
from app.flinks.body import _UNSTORABLE_ESCAPE, _json_type, _Unreadable, load_array, snippet
from app.flinks.errors import (
    FlinksAuthError,
    FlinksBadAnswer,
    FlinksError,
    FlinksRequestError,
    FlinksUnavailable,
)
from app.flinks.timestamps import parse_timestamp

__all__ = [
    "FlinksAuthError",
    "FlinksBadAnswer",
    "FlinksError",
    "FlinksRequestError",
    "FlinksUnavailable",
    "parse_answer",
    "parse_timestamp",
    "read_answer",
    "snippet",
    "validate_items",
]

log = logging.getLogger("app.flinks")

_MAX_INT64 = 2**63 - 1  # provider_id is a BIGINT column


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


def _row_key(item: dict[str, Any]) -> str:
    client_id = item.get("client_id")
    try:
        provider = str(_provider_id(item.get("provider_id")))
    except ValueError:
        provider = "?"
    readable = isinstance(client_id, str) and client_id.strip()
    return f"{snippet(client_id) if readable else '?'}/{provider}"


_REASONS = {"missing": "missing", "string_type": "not a string", "string_pattern_mismatch": "blank"}


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


class _Typed(msgspec.Struct):
    """A row whose fields all have their documented JSON types (msgspec decodes and types it
    in one pass); unknown fields are ignored, a repeated field keeps its last value (as
    json.loads does)."""

    client_id: str
    client_name: str
    provider_id: int
    provider_name: str
    country: str
    registration_status: str
    requested_on: str


_TYPED = msgspec.json.Decoder(list[_Typed])


def _typed_row(item: _Typed) -> Registration | None:
    """The checks _Row makes, on an already typed row; a row failing any of them (or one
    that only might) takes the exact path, so its skip and its log line are _Row's."""
    cid, status, country, pid = (
        item.client_id,
        item.registration_status,
        item.country,
        item.provider_id,
    )
    # str.isspace() is true for every Unicode White_Space character (and a few more): a string
    # that is not all isspace() has a non-blank character for pydantic's pattern too.
    plain = 0 < len(cid) <= 128 and 0 < len(status) <= 64 and len(country) <= 16
    if not plain or cid.isspace() or status.isspace() or not 0 <= pid <= _MAX_INT64:
        return _validate_row(msgspec.structs.asdict(item))
    try:
        requested = parse_timestamp(item.requested_on)
    except ValueError:
        return _validate_row(msgspec.structs.asdict(item))
    return Registration(
        intern(cid),
        intern(item.client_name),
        pid,
        intern(item.provider_name),
        intern(country),
        intern(status),
        requested,
    )


def read_answer(body: bytes) -> Callable[[], Answer]:
    """The body read now (FlinksBadAnswer unless it is a JSON array); its rows validated
    when the returned function is called. The common answer is decoded and typed in one pass
    (msgspec); any other (a float or string id, a missing or null field, NUL or lone
    surrogates, not an array, not JSON) is read by json.loads and validated row by row."""
    if not _UNSTORABLE_ESCAPE.search(body):
        try:
            typed = _TYPED.decode(body)
        except (msgspec.DecodeError, RecursionError):
            pass
        else:
            return lambda: validate_items(typed, _typed_row)
    items = load_array(body)
    return lambda: validate_items(items, _validate_row)


def parse_answer(body: bytes) -> Answer:
    """Validate a listing body: FlinksBadAnswer unless it is a JSON array; invalid rows are
    skipped (logged, counted); identical duplicates are one row, while different rows for one
    key make that key invalid for this answer (all its rows skipped); rows sorted by key. The
    result never depends on the order of the rows."""
    return read_answer(body)()


def validate_items(items: list[Any], validate: Callable[[Any], Registration | None]) -> Answer:
    """parse_answer after the body was read (`items` is emptied as it goes)."""
    merge = Merge()
    for index, item in enumerate(items):
        # Drop each parsed dict once it is validated: at 100,000 rows the dicts and the
        # Registrations built from them would otherwise all be alive at the same time.
        items[index] = None
        merge.add(validate(item))
    return merge.answer()


class Merge:
    """The rows of one answer gathered by key: identical duplicates are one row, different
    rows for one key make that key invalid for this answer (all its rows skipped)."""

    def __init__(self) -> None:
        self.kept: dict[Key, Registration] = {}
        self.tags: dict[Key, bytes] = {}  # what the caller tagged each kept row with
        self._conflicts: dict[Key, list[Registration]] = {}
        self._repeats: dict[Key, int] = {}  # identical duplicates, in case the key conflicts later
        self._skipped = 0

    def add(self, row: Registration | None, tag: bytes = b"") -> None:
        if row is None:
            self._skipped += 1
            return
        key = row.key
        previous = self.kept.get(key)
        if previous is None:
            if key in self._conflicts:
                self._conflicts[key].append(row)
            else:
                self.kept[key], self.tags[key] = row, tag
        elif previous == row:
            self._repeats[key] = self._repeats.get(key, 0) + 1
            log.debug("flinks.duplicate_row key=%s/%d identical", snippet(key[0]), key[1])
        else:
            # Which of two different rows is the truth cannot be told from the answer, and
            # picking one by order or requested_on flaps when Flinks reorders its rows.
            self._conflicts[key] = [self.kept.pop(key), row]
            del self.tags[key]

    def answer(self) -> Answer:
        """The kept rows sorted by key, and every skip (conflicts logged here, by key)."""
        skipped = self._skipped
        for key in sorted(self._conflicts):
            rows = self._conflicts[key]
            skipped += len(rows) + self._repeats.get(key, 0)
            _log_conflict(key, rows, len(rows) + self._repeats.get(key, 0))
        return Answer(rows=tuple(self.kept[key] for key in sorted(self.kept)), skipped=skipped)


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
