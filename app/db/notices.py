"""The watcher's own alerts in the database (SPEC 8): watcher_notices with their deliveries, the
blind state the next cycle reads back, and each channel's delivery record. The rules that decide
them are app.core.blind's; this module only reads and writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.core.blind import BlindState, ChannelHealth
from app.db.engine import reading
from app.db.tables import channel_health, deliveries, poll_runs, watcher_notices
from app.delivery import DeliveryStatus
from app.domain import NoticeKind, NoticePlan, Outcome, WatcherNotice

_SUCCESS = (Outcome.OK.value, Outcome.DEGRADED.value)
_MAX_ERROR_CHARS = 500
_WATCHER = (NoticeKind.WATCHER_BLIND.value, NoticeKind.WATCHER_RECOVERED.value)


def blind_state(conn: Connection) -> BlindState:
    """The failed polls since the last good one, and the open blind announcement if any."""
    p, n = poll_runs.c, watcher_notices.c
    last_good = (
        sa.select(sa.func.coalesce(sa.func.max(p.id), 0))
        .where(p.outcome.in_(_SUCCESS))
        .scalar_subquery()
    )
    failures, since = conn.execute(
        sa.select(sa.func.count(), sa.func.min(p.started_at)).where(
            p.id > last_good, p.outcome == Outcome.FAILED.value
        )
    ).one()
    latest = conn.execute(
        sa.select(watcher_notices).where(n.kind.in_(_WATCHER)).order_by(n.id.desc()).limit(1)
    ).first()
    if latest is None or latest.kind != NoticeKind.WATCHER_BLIND.value:
        return BlindState(failures=failures, since=since)
    notice = _notice(latest._mapping)
    return BlindState(failures, since or notice.since, notice, latest.created_at)


def read_blind_state(engine: Engine) -> BlindState:
    with reading(engine) as conn:
        return blind_state(conn)


def record_notices(
    conn: Connection, poll_id: int, plans: Sequence[NoticePlan], at: datetime
) -> None:
    """Inside a poll's transaction: each notice, and one delivery per channel owing it (sent
    already for the channels told directly while the database was down)."""
    for plan in plans:
        notice = plan.notice
        row = {
            "poll_id": poll_id,
            "kind": notice.kind.value,
            "channel": notice.channel,
            "since": notice.since,
            "cause": notice.cause,
            "last_error": notice.last_error[:_MAX_ERROR_CHARS] or None,
            "failures": notice.failures,
            "tally": notice.count,
            "repeat": notice.repeat,
            "sent_directly": bool(plan.sent),
            "created_at": at,
        }
        stmt = sa.insert(watcher_notices).values(row).returning(watcher_notices.c.id)
        notice_id = conn.execute(stmt).scalar_one()
        base = {"poll_id": poll_id, "notice_id": notice_id, "kind": notice.kind.value}
        owed = [ch for ch in plan.channels if ch not in plan.sent]
        rows: list[dict[str, Any]] = [
            {**base, "channel": ch, "status": status, "created_at": at, "sent_at": sent_at}
            for chs, status, sent_at in (
                (owed, DeliveryStatus.PENDING.value, None),
                (plan.sent, DeliveryStatus.SENT.value, at),
            )
            for ch in chs
        ]
        if rows:
            conn.execute(sa.insert(deliveries), rows)


def load_notices(conn: Connection, ids: Iterable[int]) -> dict[int, WatcherNotice]:
    wanted = set(ids)
    if not wanted:
        return {}
    n = watcher_notices.c
    rows = conn.execute(sa.select(watcher_notices).where(n.id.in_(wanted))).all()
    return {row.id: _notice(row._mapping) for row in rows}


def _notice(row: Any) -> WatcherNotice:
    return WatcherNotice(
        poll_id=row["poll_id"],
        observed_at=row["created_at"],
        total=0,
        by_status=(),
        kind=NoticeKind(row["kind"]),
        since=row["since"],
        cause=row["cause"],
        last_error=row["last_error"] or "",
        failures=row["failures"],
        count=row["tally"],
        channel=row["channel"],
        repeat=bool(row["repeat"]),
    )


# ---- channel health ----------------------------------------------------------------------


def read_channel_health(engine: Engine) -> dict[str, ChannelHealth]:
    with reading(engine) as conn:
        rows = conn.execute(sa.select(channel_health)).all()
    return {
        row.channel: ChannelHealth(
            row.channel, row.failing_cycles, row.since, row.last_error or "", bool(row.announced)
        )
        for row in rows
    }


def save_channel_health(conn: Connection, records: Sequence[ChannelHealth], at: datetime) -> None:
    """Replace the records of these channels (a healthy channel keeps a row of zeros)."""
    if not records:
        return
    c = channel_health.c
    conn.execute(sa.delete(channel_health).where(c.channel.in_([r.channel for r in records])))
    conn.execute(
        sa.insert(channel_health),
        [
            {
                "channel": r.channel,
                "failing_cycles": r.failing_cycles,
                "since": r.since,
                "last_error": r.last_error[:_MAX_ERROR_CHARS] or None,
                "announced": r.announced,
                "updated_at": at,
            }
            for r in records
        ],
    )
