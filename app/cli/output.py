"""PURE: rows (dicts) -> table, JSON or CSV text for `status`, `history` and `deliveries`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime

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


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def render(rows: Sequence[dict[str, object]], columns: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            [{k: _plain(v) for k, v in row.items()} for row in rows], indent=2, ensure_ascii=False
        )
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
