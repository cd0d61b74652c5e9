"""PURE: rows (dicts) -> table, JSON or CSV text for `status`, `history` and `deliveries`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TextIO

from app.core.cells import csv_cell
from app.core.text import iso_z

STATUS_COLUMNS = (
    "client_id",
    "client_name",
    "provider_id",
    "provider_name",
    "country",
    "registration_status",
    "requested_on",
    "first_seen_at",
    "status_since",
    "status_since_exact",
    "waiting_seconds",
    "stuck",
    "late",
    "expected_active_by",
    "acknowledged",  # who took it (SPEC 12), until when
)
HISTORY_COLUMNS = (
    "observed_at",
    "event",
    "client_id",
    "client_name",
    "provider_id",
    "provider_name",
    "country",
    "from_status",
    "to_status",
    "requested_on",
    "by",  # acknowledged: who took it
)
_MAX_CELL = 40
# Columns shown whole in a table (already bounded where they are stored): an error cut at 40
# characters cannot be read. Put them last, so they do not push the other columns apart.
_WHOLE_CELLS = frozenset({"last_error"})


def json_lines(rows: Sequence[dict[str, object]]) -> Iterator[str]:
    """A JSON list, one object to a line: readable, and written by msgspec's encoder (C; eight
    times quicker than json's at 100,000 rows, an indented document thirty). Times are written
    as ISO 8601 with a Z, as app.core.text.iso_z does: every time a command writes is UTC."""
    if not rows:
        yield "[]"
        return
    import msgspec  # on use: a table or CSV does not load it

    encode = msgspec.json.Encoder().encode
    last = len(rows) - 1
    yield "["
    for i, row in enumerate(rows):
        yield encode(row).decode() + ("," if i < last else "")
    yield "]"


def write(rows: Sequence[dict[str, object]], columns: Sequence[str], fmt: str, out: TextIO) -> None:
    """render(), written to `out` as it is made: a large JSON list is never one string."""
    if fmt != "json":
        out.write(render(rows, columns, fmt) + "\n")
        return
    for line in json_lines(rows):
        out.write(line + "\n")


def render(rows: Sequence[dict[str, object]], columns: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        return "\n".join(json_lines(rows))
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(_cell(row.get(k), limit=None)) for k in columns})
        return buffer.getvalue().rstrip("\n")
    return _table(rows, columns)


def _cell(value: object, limit: int | None = _MAX_CELL) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # an acknowledgement: who, until when
        until = value.get("until")
        value = f"{value.get('by')} until " + (iso_z(until) if until else "it moves")
    if isinstance(value, datetime):
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if limit else iso_z(value)
    else:
        # Control characters from upstream must not drive the user's terminal.
        text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _table(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    limits = [None if c in _WHOLE_CELLS else _MAX_CELL for c in columns]
    cells = [
        [_cell(row.get(c), limit) for c, limit in zip(columns, limits, strict=True)] for row in rows
    ]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)
