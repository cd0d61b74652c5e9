"""The board's reads (SPEC 10): its filters, counts by status and one page of recipients, all in
SQL over the present registrations, and its export: every matching row, streamed from a
server-side cursor so that no more than a batch of rows is ever held."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.core.ages import stuck_limit
from app.db import tables
from app.db.engine import reading
from app.db.queries import STATUS_COLUMNS
from app.domain import KNOWN_STATUSES

Row = dict[str, object]
BATCH = 1000  # rows per fetch of a streamed export
_LIKE_ESCAPE = "\\"
_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """The board's query string (`status`, `country`, `provider`, `client`, `stuck=1`, `q`);
    empty means "any". `country` and `provider` match case-insensitively but otherwise exactly,
    `client` is a client_id or client_name exactly, `q` a case-insensitive substring of the
    client_id, client_name, provider_name or country. Case folding is the database's: SQLite
    folds ASCII letters only, like the `--provider` of `flinkswatch status`."""

    status: str = ""
    country: str = ""
    provider: str = ""
    client: str = ""
    stuck: bool = False
    q: str = ""


@dataclass(frozen=True, slots=True)
class BoardPage:
    counts: dict[str, int]  # matching registrations by status, by status name
    recipients: int  # matching recipients (what the pages count)
    page: int  # the page read, 1 to the last (a page past the last reads the last)
    rows: list[Row]  # that page's registrations, sorted like `flinkswatch status`
    flagged: int | None = None  # of the matching, how many `flagged` holds (page's argument)


def _like(needle: str) -> str:
    for char in (_LIKE_ESCAPE, "%", "_"):
        needle = needle.replace(char, _LIKE_ESCAPE + char)
    return f"%{needle}%"


def matching(
    f: BoardFilter, now: datetime, stuck_after: Mapping[str, timedelta], dialect: str
) -> list[sa.ColumnElement[bool]]:
    """The WHERE clause of `f` over the present registrations, for `dialect`. Stuck is
    STUCK_AFTER's: in a status for longer than it allows (status_since before now - allowed)."""
    r = tables.registrations.c
    where: list[sa.ColumnElement[bool]] = [r.present.is_(True)]
    if f.status:
        # Flinks writes its statuses in capitals: `pending_approval` finds them, and the
        # column's index still serves (an IN, not upper() of every row).
        where.append(r.registration_status.in_(sorted({f.status, f.status.upper()})))
    # lower() on both sides, so the database folds the input exactly as it folds the column.
    if f.country:
        where.append(sa.func.lower(r.country) == sa.func.lower(f.country))
    if f.provider:
        where.append(sa.func.lower(r.provider_name) == sa.func.lower(f.provider))
    if f.client:
        where.append(sa.or_(r.client_id == f.client, r.client_name == f.client))
    if f.stuck:
        where.append(stuck(now, stuck_after, dialect))
    if f.q:
        where.append(_search(f.q, dialect))
    return where


def stuck(
    now: datetime, stuck_after: Mapping[str, timedelta], dialect: str
) -> sa.ColumnElement[bool]:
    """app.core.ages.is_stuck in SQL: an exact stay by its time in status, an inexact one by
    its waiting against the sum rule (SPEC 11)."""
    r = tables.registrations.c
    # SQLite, which keeps no statistics, would walk the index for each status and look every
    # row up: twice a scan's time when most are stuck. The expression keeps it to the scan
    # (tens of ms whatever the count); PostgreSQL chooses by its statistics.
    status = (
        sa.func.coalesce(r.registration_status, "")
        if dialect == "sqlite"
        else r.registration_status
    )
    found = []
    for name in sorted(stuck_after):
        exact = stuck_limit(name, True, stuck_after)
        summed = stuck_limit(name, False, stuck_after)
        if exact is None or summed is None:  # never: the names come from the map
            continue
        found.append(
            sa.and_(
                status == name,
                sa.or_(
                    sa.and_(r.status_since_exact.is_(True), r.status_since < now - exact),
                    sa.and_(r.status_since_exact.is_(False), r.requested_on < now - summed),
                ),
            )
        )
    return sa.or_(*found) if found else sa.false()


def late(now: datetime, thresholds: Mapping[int, timedelta]) -> list[sa.ColumnElement[bool]]:
    """Late (SPEC 11): not ACTIVE and waiting past its provider's threshold (provider_id ->
    the LATE_AFTER quantile of its time to ACTIVE, app.core.expect.late_thresholds)."""
    r = tables.registrations.c
    if not thresholds:
        return []
    by_provider = [
        sa.and_(r.provider_id == pid, r.requested_on < now - past)
        for pid, past in sorted(thresholds.items())
    ]
    # ACTIVE first, once: most rows are, and each would otherwise be compared with every
    # provider's threshold (at 100,000 rows and 50 providers, most of the board's scan time).
    return [sa.and_(r.registration_status != "ACTIVE", sa.or_(*by_provider))]


def needs_attention(
    now: datetime,
    stuck_after: Mapping[str, timedelta],
    dialect: str,
    late_after: Mapping[int, timedelta] | None = None,
) -> sa.ColumnElement[bool]:
    """What the board's "needs attention" list holds: stuck, late, or in a status not
    documented."""
    status = tables.registrations.c.registration_status
    return sa.or_(
        stuck(now, stuck_after, dialect),
        *late(now, late_after or {}),
        status.not_in(KNOWN_STATUSES),
    )


def _search(q: str, dialect: str) -> sa.ColumnElement[bool]:
    """`q` in any of the searched columns, ignoring case. Each backend's fastest form (at
    100,000 rows): SQLite's LIKE, which ignores the case of ASCII letters as its lower() folds
    them, column by column; PostgreSQL's ILIKE once over the columns joined by a character no
    search holds (the unit separator, taken out of `q`), three times quicker than four."""
    r = tables.registrations.c
    columns = (r.client_id, r.client_name, r.provider_name, r.country)
    if dialect == "sqlite":
        pattern = _like(q)
        return sa.or_(*(c.like(pattern, escape=_LIKE_ESCAPE) for c in columns))
    joined = r.client_id + _SEPARATOR + r.client_name + _SEPARATOR + r.provider_name
    joined = joined + _SEPARATOR + r.country  # ||, quicker than concat_ws()
    return joined.ilike(_like(q.replace(_SEPARATOR, "")), escape=_LIKE_ESCAPE)


def _status_select(
    where: list[sa.ColumnElement[bool]], times_as_text: str | None = None
) -> sa.Select[tuple[object, ...]]:
    """The rows of `flinkswatch status`; `times_as_text` (a dialect name): its times as the
    database's text in UTC, for iso_text() (see stream())."""
    r = tables.registrations.c
    columns: list[sa.ColumnElement[Any]] = [r[name] for name in STATUS_COLUMNS]
    if times_as_text is not None:
        columns = [_utc_text(c, times_as_text) if c.name in _TIMES else c for c in columns]
    return (
        sa.select(*columns)
        .where(*where)
        .order_by(r.client_name, r.provider_name, r.client_id, r.provider_id)
    )


_TIMES = ("requested_on", "first_seen_at", "status_since")


def _utc_text(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":  # 'YYYY-MM-DD HH:MM:SS[.ffffff]', zeros of the fraction cut
        return sa.cast(sa.func.timezone("UTC", column), sa.Text).label(column.name)
    # SQLite holds the text already (tables.UTCDateTime, sqlitebulk): 'YYYY-MM-DD HH:MM:SS.ffffff'
    return sa.type_coerce(column, sa.Text).label(column.name)


def iso_text(text: str) -> str:
    """A time's text as the database gives it in UTC -> app.core.text.iso_z's form
    ('2026-01-02T03:04:05Z', or with '.ffffff' when not a whole second), without building a
    datetime: for 100,000 rows, the datetimes took 40% of an export."""
    fraction = text[20:].ljust(6, "0")
    whole = f"{text[:10]}T{text[11:19]}"
    return f"{whole}Z" if fraction == "000000" else f"{whole}.{fraction}Z"


class BoardReads:
    """The board over one engine; no method writes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def page(
        self,
        where: list[sa.ColumnElement[bool]],
        page: int,
        per_page: int,
        flagged: sa.ColumnElement[bool] | None = None,
    ) -> BoardPage:
        """Counts by status (and of those `flagged`, in the same scan: the needs-attention
        count), and the recipients of page `page` (by name, then client_id) with all their
        matching registrations."""
        r = tables.registrations.c
        # Grouped by an expression, not the column: grouping by the column, SQLite walks the
        # index on (registration_status, status_since) and looks every row up for `present`,
        # slower than one scan of the table.
        status = sa.func.coalesce(r.registration_status, "")
        measures: list[sa.ColumnElement[Any]] = [status, sa.func.count()]
        if flagged is not None:
            measures.append(sa.func.count().filter(flagged))
        counts_stmt = sa.select(*measures).where(*where).group_by(status)
        with reading(self._engine) as conn:
            by_status = conn.execute(counts_stmt).all()
            counts: dict[object, object] = {row[0]: row[1] for row in by_status}
            ids, total = self._recipients(conn, where, page, per_page)
            pages = max(1, -(-total // per_page))
            if not ids and page > pages:  # past the last page: the last one
                page = pages
                ids, total = self._recipients(conn, where, page, per_page)
            rows = [
                dict(row._mapping)
                for row in conn.execute(_status_select([*where, r.client_id.in_(ids)]))
            ]
        return BoardPage(
            counts=dict(sorted((str(k), int(str(v))) for k, v in counts.items())),
            recipients=total,
            page=max(1, min(page, pages)),
            rows=rows,
            flagged=None if flagged is None else sum(int(row[2]) for row in by_status),
        )

    @staticmethod
    def _recipients(
        conn: sa.Connection, where: list[sa.ColumnElement[bool]], page: int, per_page: int
    ) -> tuple[list[str], int]:
        """The client_ids of one page and how many recipients match in all (a window count)."""
        r = tables.registrations.c
        name = sa.func.min(r.client_name).label("name")
        stmt = (
            sa.select(r.client_id, name, sa.func.count().over().label("total"))
            .where(*where)
            .group_by(r.client_id)
            .order_by(name, r.client_id)
            .limit(per_page)
            .offset((max(1, page) - 1) * per_page)
        )
        found = conn.execute(stmt).all()
        if found:
            return [row.client_id for row in found], int(found[0].total)
        count = sa.select(sa.func.count(sa.distinct(r.client_id))).where(*where)
        return [], int(conn.execute(count).scalar_one())

    def stream(self, where: list[sa.ColumnElement[bool]]) -> Iterator[Sequence[object]]:
        """Every matching registration, sorted like `flinkswatch status`, as records of
        STATUS_COLUMNS whose times are already ISO 8601 text, fetched BATCH rows at a time (a
        server-side cursor on PostgreSQL; SQLite steps its cursor as it goes). The connection
        is held until the iterator is exhausted or closed (a client that goes away: the server
        closes the response)."""
        times = [i for i, name in enumerate(STATUS_COLUMNS) if name in _TIMES]
        stmt = _status_select(where, self._engine.dialect.name)
        with reading(self._engine) as conn:
            for row in conn.execution_options(yield_per=BATCH).execute(stmt):
                record: list[object] = list(row)
                for i in times:  # NOT NULL columns
                    record[i] = iso_text(str(record[i]))
                yield record
