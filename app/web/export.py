"""`?format=csv|json` of every list (SPEC 10): JSON is a list of objects, CSV has a header
row; times are ISO 8601 UTC like `flinkswatch status --format json`. Streamed row by row."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from flask import Response

from app.core.text import iso_z

Row = dict[str, object]
FORMATS = ("csv", "json")


def plain(value: object) -> object:
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def export(rows: Sequence[Row], columns: Sequence[str], fmt: str, name: str) -> Response:
    """The rows, only `columns` of each, as a download named `name`.<fmt>."""
    body = _csv(rows, columns) if fmt == "csv" else _json(rows, columns)
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = Response(body, 200, content_type=kind)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _json(rows: Sequence[Row], columns: Sequence[str]) -> Iterator[str]:
    yield "["
    for i, row in enumerate(rows):
        item = {name: plain(row.get(name)) for name in columns}
        yield ("," if i else "") + json.dumps(item, ensure_ascii=False)
    yield "]\n"


def _csv(rows: Sequence[Row], columns: Sequence[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for i, row in enumerate(rows):
        writer.writerow(["" if row.get(n) is None else plain(row.get(n)) for n in columns])
        if i % 500 == 499:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
