"""`?format=csv|json` of every list (SPEC 10): JSON is a list of objects, CSV has a
header row; times are ISO 8601 UTC like `flinkswatch status --format json`; a CSV cell a
spreadsheet would run as a formula starts with `'` (app.core.cells). Written as the rows
are iterated, in chunks: a streamed read is never held whole."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import islice

from flask import Response

from app.core.cells import csv_row
from app.core.text import iso_z

Row = Mapping[str, object]
FORMATS = ("csv", "json")
CHUNK = 500  # rows per piece of the body
# One encoder for a whole chunk (json.dumps would make one per call), compact.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _iso(value: datetime) -> str:
    text = value.isoformat()  # the tables hand out UTC times: "+00:00" is the common ending
    return text[:-6] + "Z" if text.endswith("+00:00") else iso_z(value)


# By exact type, looked up once per value: the export of 100,000 rows spends its time here.
_PLAIN: dict[type, Callable[[object], object]] = {
    datetime: lambda v: _iso(v),  # type: ignore[arg-type]
    timedelta: lambda v: v.total_seconds(),  # type: ignore[attr-defined]
}


def plain(value: object) -> object:
    convert = _PLAIN.get(type(value))
    return value if convert is None else convert(value)


def _plain_all(record: Sequence[object]) -> list[object]:
    return [v if type(v) not in _PLAIN else _PLAIN[type(v)](v) for v in record]


def export(rows: Iterable[Row], columns: Sequence[str], fmt: str, name: str) -> Response:
    """The rows, only `columns` of each, as a download named `name`.<fmt>."""
    return export_records((tuple(row.get(n) for n in columns) for row in rows), columns, fmt, name)


def export_records(
    records: Iterable[Sequence[object]],
    columns: Sequence[str],
    fmt: str,
    name: str,
    *,
    plain_already: bool = False,
) -> Response:
    """Records of the values of `columns` in that order (database rows as selected), written
    as they are iterated: an iterator (a streamed read) is never held whole. `plain_already`:
    the records hold no datetime nor timedelta (their times are text), none is looked for."""
    if not plain_already:
        records = map(_plain_all, records)
    body = _csv(records, columns) if fmt == "csv" else _json(records, columns)
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = Response(body, 200, content_type=kind)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _chunks(records: Iterable[Sequence[object]]) -> Iterator[list[Sequence[object]]]:
    it = iter(records)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def _json(records: Iterable[Sequence[object]], columns: Sequence[str]) -> Iterator[str]:
    yield "["
    separator = ""
    for chunk in _chunks(records):
        items = [dict(zip(columns, record, strict=True)) for record in chunk]
        yield separator + _ENCODER.encode(items)[1:-1]  # without the list's brackets
        separator = ","
    yield "]\n"


def _csv(records: Iterable[Sequence[object]], columns: Sequence[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for chunk in _chunks(records):
        # None is written as an empty field; a text a spreadsheet would run gets a leading '.
        writer.writerows(map(csv_row, chunk))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
