"""Store on real SQLite and PostgreSQL: one transaction per cycle, the delivery outbox, the
user queries and their filters, UTC timestamps, and bulk size."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.routing import Filter, plan_deliveries
from app.db import engine as db
from app.db import queries
from app.db.outbox import Outbox
from app.db.queries import Filters
from app.db.store import Store
from app.db.tables import deliveries, registrations
from app.domain import (
    ALERTED_BY_DEFAULT,
    CycleRecord,
    Event,
    EventKind,
    Outcome,
    Registration,
    StoredRegistration,
)
from tests import builders

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSTILE = "x' OR 1=1 --"


@pytest.fixture
def store(engine: sa.Engine) -> Store:
    return Store(engine)


def reg(
    client: str = "c1", provider: int = 1, status: str = "PENDING_APPROVAL", **kw: str
) -> Registration:
    """This file's registrations: client c1 at Bank 1 by default, requested three days before T0."""
    return builders.registration(
        client, provider, status, requested_on=T0 - timedelta(days=3), **kw
    )


def stored(r: Registration, at: datetime = T0, **kw: Any) -> StoredRegistration:
    """builders.stored with this file's default time, T0."""
    return builders.stored(r, at, **kw)


def ev(kind: EventKind, r: Registration, at: datetime = T0, **kw: Any) -> Event:
    """builders.event_for with this file's default time, T0."""
    return builders.event_for(kind, r, at, **kw)


def cycle(
    store: Store,
    at: datetime = T0,
    changed: tuple[StoredRegistration, ...] = (),
    events: tuple[Event, ...] = (),
    channels: tuple[str, ...] = ("slack", "email"),
    outcome: Outcome = Outcome.OK,
    digest: str | None = None,
    alerted: frozenset[EventKind] = ALERTED_BY_DEFAULT,
) -> int:
    plan = plan_deliveries(events, [(name, Filter()) for name in channels], alerted)
    record = CycleRecord(
        started_at=at - timedelta(seconds=2),
        finished_at=at,
        outcome=outcome,
        rows_seen=len(changed),
        rows_skipped=1 if outcome is Outcome.DEGRADED else 0,
        changed=changed,
        events=events,
        deliveries=plan,
        digest=digest,
    )
    return store.record_cycle(record)


def baseline(
    store: Store,
    regs: list[Registration],
    at: datetime = T0,
    channels: tuple[str, ...] = ("slack", "email"),
    digest: str | None = None,
    alerted: frozenset[EventKind] = ALERTED_BY_DEFAULT,
) -> int:
    changed = tuple(stored(r, at) for r in regs)
    events = tuple(ev(EventKind.BASELINE, r, at) for r in regs)
    return cycle(store, at, changed, events, channels=channels, digest=digest, alerted=alerted)


# ---- record_cycle ----------------------------------------------------------------------


def test_baseline_round_trip_with_one_summary_per_channel(store: Store) -> None:
    regs = [reg("c1", 1), reg("c1", 2, "ACTIVE"), reg("c2", 1, "ACTIVE")]
    # Baseline events are summarised, never alerted one by one, whatever `alerted` says.
    poll_id = baseline(store, regs, alerted=frozenset(EventKind))

    assert store.load_state() == {r.key: stored(r) for r in regs}
    assert [
        (h["client_id"], h["provider_id"]) for h in queries.history(store.engine, Filters())
    ] == [
        ("c1", 1),
        ("c1", 2),
        ("c2", 1),
    ]
    for channel in ("slack", "email"):
        (pending,) = Outbox(store.engine).pending_deliveries(channel, T0)
        assert pending.event is None
        assert pending.summary is not None
        assert (pending.poll_id, pending.channel, pending.attempts) == (poll_id, channel, 0)
        assert pending.summary.total == 3
        assert pending.summary.by_status == (("ACTIVE", 2), ("PENDING_APPROVAL", 1))
        assert pending.summary.observed_at == T0


def test_deliveries_only_for_alerted_events_in_order(store: Store) -> None:
    a, b = reg("c1", 1), reg("c1", 2)
    baseline(store, [a, b])
    t1 = T0 + timedelta(hours=1)
    moved, renamed, new = (
        replace(a, registration_status="PENDING_ACTIVATION"),
        replace(b, provider_name="Bank Two"),
        reg("c3", 7),
    )
    events = (
        ev(
            EventKind.STATUS_CHANGED,
            moved,
            t1,
            from_status="PENDING_APPROVAL",
            previous_status_since=T0,
        ),
        ev(
            EventKind.DETAILS_CHANGED,
            renamed,
            t1,
            changes=(("provider_name", "Bank 2", "Bank Two"),),
        ),
        ev(EventKind.ADDED, new, t1),
    )
    changed = (stored(moved, status_since=t1), stored(renamed), stored(new, t1))
    cycle(store, t1, changed, events, channels=("slack",))

    state = store.load_state()
    assert state[a.key].registration.registration_status == "PENDING_ACTIVATION"
    assert state[a.key].status_since == t1
    assert state[a.key].first_seen_at == T0
    assert state[b.key].registration.provider_name == "Bank Two"
    pending = [
        p for p in Outbox(store.engine).pending_deliveries("slack", t1) if p.event is not None
    ]
    assert [p.event for p in pending] == [events[0], events[2]]
    assert (
        Outbox(store.engine).pending_deliveries("email", t1)[1:] == []
    )  # only the old baseline summary
    history = queries.history(store.engine, Filters(since=t1))
    assert [h["event"] for h in history] == ["status_changed", "details_changed", "added"]
    assert history[1]["details"] == {"provider_name": ["Bank 2", "Bank Two"]}
    assert history[0]["details"] is None


def test_upserts_are_idempotent_and_keep_removed_at(store: Store, engine: sa.Engine) -> None:
    a = reg()
    baseline(store, [a])
    baseline(store, [a])
    assert store.load_state() == {a.key: stored(a)}

    t1, t2, t3 = (T0 + timedelta(hours=h) for h in (1, 2, 3))
    gone = stored(a, missing_polls=2, present=False)
    cycle(store, t1, (gone,), (ev(EventKind.REMOVED, a, t1 - timedelta(minutes=1)),))
    cycle(store, t2, (replace(gone, missing_polls=3),))
    assert store.load_state()[a.key].present is False
    assert _removed_at(engine) == t1 - timedelta(minutes=1)

    cycle(store, t3, (stored(a),), (ev(EventKind.REAPPEARED, a, t3),))
    assert store.load_state() == {a.key: stored(a)}
    assert _removed_at(engine) is None


def _removed_at(engine: sa.Engine) -> datetime | None:
    with engine.connect() as conn:
        value: datetime | None = conn.execute(sa.select(registrations.c.removed_at)).scalar_one()
        return value


def test_a_failure_late_in_record_cycle_leaves_nothing(store: Store) -> None:
    a = reg()
    # The same channel twice violates uq_deliveries_event_id_channel in the LAST statement,
    # after the poll row, the upsert and the events were written.
    with pytest.raises(db.DatabaseError, match="database error on"):
        cycle(store, changed=(stored(a),), events=(ev(EventKind.ADDED, a),), channels=("s", "s"))

    assert store.last_poll() is None
    assert store.load_state() == {}
    assert queries.history(store.engine, Filters()) == []
    assert Outbox(store.engine).delivery_counts() == {}


def test_poll_bookkeeping(store: Store) -> None:
    assert (store.last_success_id(), store.last_poll(), store.last_success_at()) == (
        None,
        None,
        None,
    )
    failed = store.record_failure(started_at=T0, finished_at=T0, error="boom " * 200)
    assert store.last_success_id() is None
    last = store.last_poll()
    assert last is not None
    assert (last.id, last.outcome) == (failed, Outcome.FAILED)
    assert last.error is not None
    assert len(last.error) == 500

    t1, t2 = T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)
    a = reg()
    ok = baseline(store, [a], at=t1, digest="d1")
    assert (store.last_success_id(), store.last_answer_digest(), store.last_success_at()) == (
        ok,
        "d1",
        t1,
    )
    degraded = cycle(
        store, t2, (stored(a, missing_polls=1),), outcome=Outcome.DEGRADED, digest="d2"
    )
    assert store.last_success_id() == degraded
    assert store.last_answer_digest() is None  # latest success was degraded
    assert store.last_success_at() == t2
    assert store.has_pending_removals()
    store.record_failure(started_at=t2, finished_at=t2 + timedelta(minutes=1), error="later")
    assert store.last_success_at() == t2


def test_status_counts_count_present_registrations(store: Store) -> None:
    a, b, c = reg("c1", 1), reg("c1", 2, "ACTIVE"), reg("c2", 2, "ACTIVE")
    baseline(store, [a, b, c])
    cycle(store, changed=(stored(c, present=False),))
    assert queries.status_counts(store.engine) == {"PENDING_APPROVAL": 1, "ACTIVE": 1}


# ---- deliveries ------------------------------------------------------------------------


def _added(store: Store, n: int, channels: tuple[str, ...] = ("slack",)) -> list[int]:
    baseline(store, [], channels=channels)
    regs = [reg(f"c{i}", i) for i in range(n)]
    cycle(
        store,
        T0,
        tuple(stored(r) for r in regs),
        tuple(ev(EventKind.ADDED, r) for r in regs),
        channels=channels,
    )
    return [p.id for p in Outbox(store.engine).pending_deliveries("slack", T0)]


def test_pending_deliveries_honour_next_attempt_at_and_order(store: Store) -> None:
    first, second, third = _added(store, 3)
    assert first < second < third
    later = T0 + timedelta(minutes=1)
    Outbox(store.engine).mark_failed(
        [first], T0, "429", permanent=False, max_attempts=3, next_attempt_at=later
    )

    # The channel waits as a whole: nothing overtakes the delivery told to wait.
    assert Outbox(store.engine).pending_deliveries("slack", T0) == []
    assert [p.id for p in Outbox(store.engine).pending_deliveries("slack", later)] == [
        first,
        second,
        third,
    ]
    assert [p.id for p in Outbox(store.engine).pending_deliveries("slack", later, limit=2)] == [
        first,
        second,
    ]
    assert Outbox(store.engine).pending_deliveries("email", later) == []


def test_a_later_poll_does_not_overtake_a_channel_told_to_wait(store: Store) -> None:
    """429 Retry-After on poll 1's alert; poll 2's alert arrives meanwhile: it waits too."""
    outbox = Outbox(store.engine)
    (first,) = _added(store, 1)
    retry_at = T0 + timedelta(seconds=600)
    outbox.mark_failed(
        [first], T0, "429", permanent=False, max_attempts=3, next_attempt_at=retry_at
    )
    a = reg("later", 99)
    cycle(
        store,
        T0 + timedelta(seconds=300),
        (stored(a),),
        (ev(EventKind.ADDED, a),),
        channels=("slack",),
    )
    assert outbox.pending_deliveries("slack", T0 + timedelta(seconds=300)) == []
    due = outbox.pending_deliveries("slack", retry_at)
    assert due[0].id == first
    assert [p.event.client_id for p in due if p.event] == ["c0", "later"]


def test_mark_sent(store: Store, engine: sa.Engine) -> None:
    first, second = _added(store, 2)
    Outbox(store.engine).mark_sent([first], T0, external_ref="C1:123.456")
    assert [p.id for p in Outbox(store.engine).pending_deliveries("slack", T0)] == [second]
    assert Outbox(store.engine).delivery_counts() == {("slack", "sent"): 1, ("slack", "pending"): 1}
    with engine.connect() as conn:
        row = conn.execute(sa.select(deliveries).where(deliveries.c.id == first)).one()
    assert (row.status, row.sent_at, row.external_ref) == ("sent", T0, "C1:123.456")
    Outbox(store.engine).mark_sent([], T0)  # nothing to do is fine


def test_transient_failures_give_up_at_a_hundred_times_max_attempts(store: Store) -> None:
    (only,) = _added(store, 1)
    outbox = Outbox(store.engine)
    for _ in range(99):
        outbox.mark_failed([only], T0, "timeout " * 100, permanent=False, max_attempts=1)
    (pending,) = outbox.pending_deliveries("slack", T0)
    assert pending.attempts == 99
    outbox.mark_failed([only], T0, "timeout", permanent=False, max_attempts=1)
    assert outbox.pending_deliveries("slack", T0) == []
    assert outbox.delivery_counts() == {("slack", "failed"): 1}


def test_every_failed_attempt_counts_toward_max_attempts(store: Store) -> None:
    (only,) = _added(store, 1)
    outbox = Outbox(store.engine)
    for _ in range(2):
        outbox.mark_failed([only], T0, "HTTP 503", permanent=False, max_attempts=3)
    outbox.mark_failed([only], T0, "some_new_error", permanent=True, max_attempts=3)
    assert outbox.delivery_counts() == {("slack", "failed"): 1}


def test_deliveries_never_tried_never_give_up(store: Store) -> None:
    (only,) = _added(store, 1)
    outbox = Outbox(store.engine)
    for _ in range(3):
        outbox.mark_failed(
            [only], T0, "earlier failed", permanent=True, max_attempts=1, count_attempt=False
        )
    (pending,) = outbox.pending_deliveries("slack", T0)
    assert pending.attempts == 0


def test_permanent_failure_gives_up_at_max_attempts(store: Store, engine: sa.Engine) -> None:
    first, second = _added(store, 2)
    for _ in range(2):
        Outbox(store.engine).mark_failed(
            [first, second], T0, "channel_not_found", permanent=True, max_attempts=3
        )
    assert [p.attempts for p in Outbox(store.engine).pending_deliveries("slack", T0)] == [2, 2]
    Outbox(store.engine).mark_failed(
        [first], T0, "channel_not_found", permanent=True, max_attempts=3
    )
    assert [p.id for p in Outbox(store.engine).pending_deliveries("slack", T0)] == [second]
    assert Outbox(store.engine).delivery_counts() == {
        ("slack", "failed"): 1,
        ("slack", "pending"): 1,
    }
    with engine.connect() as conn:
        row = conn.execute(sa.select(deliveries).where(deliveries.c.id == first)).one()
    assert (row.attempts, row.last_error) == (3, "channel_not_found")


# ---- queries and filters ---------------------------------------------------------------


@pytest.fixture
def history_store(store: Store) -> Store:
    """c1/1 goes active, c2/1 is added then removed; provider 1 is named O'Brien Bank."""
    a = reg("c1", 1, provider_name="O'Brien Bank")
    b = reg("c1", 2, "ACTIVE", client_name="Alpha")
    baseline(store, [a, b])
    t1, t2 = T0 + timedelta(days=1), T0 + timedelta(days=2)
    c = reg("c2", 1, provider_name="O'Brien Bank")
    active = replace(a, registration_status="ACTIVE")
    cycle(
        store,
        t1,
        (stored(active), stored(c, t1)),
        (
            ev(EventKind.STATUS_CHANGED, active, t1, from_status="PENDING_APPROVAL"),
            ev(EventKind.ADDED, c, t1),
        ),
    )
    cycle(store, t2, (stored(c, t1, present=False),), (ev(EventKind.REMOVED, c, t2),))
    return store


def _keys(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(r["client_id"], r["provider_id"], r.get("event")) for r in rows]


# Table-driven inside one test: each PostgreSQL test pays for a fresh database.
HISTORY_CASES: list[tuple[Filters, list[tuple[object, ...]]]] = [
    (
        Filters(),
        [
            ("c1", 1, "baseline"),
            ("c1", 2, "baseline"),
            ("c1", 1, "status_changed"),
            ("c2", 1, "added"),
            ("c2", 1, "removed"),
        ],
    ),
    (Filters(client_id="c2"), [("c2", 1, "added"), ("c2", 1, "removed")]),
    (Filters(provider_id=2), [("c1", 2, "baseline")]),
    (Filters(provider="o'brien BANK", event="baseline"), [("c1", 1, "baseline")]),
    (
        Filters(status="PENDING_APPROVAL"),
        [
            ("c1", 1, "baseline"),
            ("c1", 1, "status_changed"),
            ("c2", 1, "added"),
            ("c2", 1, "removed"),
        ],
    ),
    (
        Filters(status="ACTIVE", client_id="c1"),
        [("c1", 2, "baseline"), ("c1", 1, "status_changed")],
    ),
    (Filters(event="removed"), [("c2", 1, "removed")]),
    (Filters(since=T0 + timedelta(days=1, seconds=1)), [("c2", 1, "removed")]),
    (Filters(since=T0 + timedelta(days=2)), [("c2", 1, "removed")]),
]
HOSTILE_CASES = [
    Filters(client_id=HOSTILE),
    Filters(provider=HOSTILE),
    Filters(status=HOSTILE),
    Filters(client_id="c1'; DROP TABLE registration_events; --"),
]


def test_history_filters(history_store: Store) -> None:
    for filters, expected in HISTORY_CASES:
        assert _keys(queries.history(history_store.engine, filters)) == expected, filters


def test_hostile_filters_match_nothing_and_break_nothing(history_store: Store) -> None:
    for filters in HOSTILE_CASES:
        assert queries.history(history_store.engine, filters) == [], filters
        assert queries.current(history_store.engine, filters) == [], filters
        assert queries.history(history_store.engine, replace(filters, event=HOSTILE)) == [], filters
    assert len(queries.history(history_store.engine, Filters())) == 5
    assert len(history_store.load_state()) == 3


def test_registrations_sorted_and_filtered(history_store: Store) -> None:
    present = queries.current(history_store.engine, Filters())
    assert [(r["client_name"], r["provider_name"]) for r in present] == [
        ("Alpha", "Bank 2"),
        ("Client c1", "O'Brien Bank"),
    ]
    assert set(present[0]) == {
        "client_id",
        "client_name",
        "provider_id",
        "provider_name",
        "country",
        "registration_status",
        "requested_on",
        "first_seen_at",
        "status_since",
        "present",
        "status_since_exact",
    }
    everything = queries.current(history_store.engine, Filters(include_removed=True))
    assert [(r["client_id"], r["present"]) for r in everything] == [
        ("c1", True),
        ("c1", True),
        ("c2", False),
    ]
    assert _keys(
        queries.current(history_store.engine, Filters(status="ACTIVE", provider="O'BRIEN bank"))
    ) == [("c1", 1, None)]
    assert _keys(queries.current(history_store.engine, Filters(client_id="c1", provider_id=2))) == [
        ("c1", 2, None)
    ]


def test_timestamps_come_back_utc_aware(store: Store) -> None:
    eastern = timezone(timedelta(hours=-5))
    at = datetime(2026, 3, 2, 4, 30, tzinfo=eastern)  # 09:30 UTC
    a = replace(reg(), requested_on=datetime(2026, 2, 1, 23, 0, tzinfo=eastern))
    cycle(store, at, (stored(a, at),), (ev(EventKind.ADDED, a, at),))

    values: list[object] = [store.last_success_at()]
    state = store.load_state()[a.key]
    values += [state.first_seen_at, state.status_since, state.registration.requested_on]
    (row,) = queries.history(store.engine, Filters())
    values += [row["observed_at"], row["requested_on"]]
    (pending,) = Outbox(store.engine).pending_deliveries("slack", at)
    assert pending.event is not None
    values += [pending.event.observed_at]
    for value in values:
        assert isinstance(value, datetime)
        assert value.tzinfo == UTC
    assert state.first_seen_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert state.registration.requested_on == datetime(2026, 2, 2, 4, 0, tzinfo=UTC)


def test_bulk_cycle_of_ten_thousand_rows(store: Store) -> None:
    regs = [reg(f"client-{i % 100}", i) for i in range(10_000)]
    baseline(store, regs)
    state = store.load_state()
    assert len(state) == 10_000
    assert state[regs[-1].key] == stored(regs[-1])
    assert len(queries.history(store.engine, Filters(event="baseline"))) == 10_000
    (summary,) = Outbox(store.engine).pending_deliveries("slack", T0)
    assert summary.summary is not None
    assert summary.summary.total == 10_000


def test_bulk_removal_and_return_keep_the_removal_rules(store: Store, engine: sa.Engine) -> None:
    """Large cycles take the bulk path (COPY on PostgreSQL): same state, events and removed_at."""
    regs = [reg(f"client-{i % 50}", i) for i in range(3_000)]
    baseline(store, regs)
    t1, t2, t3 = (T0 + timedelta(hours=h) for h in (1, 2, 3))
    gone = tuple(stored(r, missing_polls=2, present=False) for r in regs)
    cycle(store, t1, gone, tuple(ev(EventKind.REMOVED, r, t1) for r in regs))
    cycle(store, t2, tuple(replace(g, missing_polls=3) for g in gone))  # no event: keeps t1
    with engine.connect() as conn:
        removed = conn.execute(sa.select(registrations.c.removed_at).distinct()).scalars().all()
    assert removed == [t1]
    removed_events = queries.history(store.engine, Filters(event="removed"))
    assert [(e["client_id"], e["provider_id"]) for e in removed_events] == [r.key for r in regs]

    cycle(
        store,
        t3,
        tuple(stored(r) for r in regs),
        tuple(ev(EventKind.REAPPEARED, r, t3) for r in regs),
    )
    assert store.load_state() == {r.key: stored(r) for r in regs}
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).where(registrations.c.removed_at.is_not(None))
            ).scalar()
            == 0
        )


# ---- engine and errors -----------------------------------------------------------------


def test_sqlite_readers_do_not_wait_for_a_writer(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    db.migrate(engine)
    store = Store(engine)
    try:
        with engine.begin() as writer:  # holds the write lock until the block ends
            writer.execute(sa.insert(registrations).values(_stored_row(reg())))
            started = time.monotonic()
            assert store.load_state() == {}  # sees the last commit, does not block
            assert time.monotonic() - started < 1
        assert len(store.load_state()) == 1
    finally:
        engine.dispose()


def _stored_row(r: Registration) -> dict[str, object]:
    return {
        "client_id": r.client_id,
        "provider_id": r.provider_id,
        "client_name": r.client_name,
        "provider_name": r.provider_name,
        "country": r.country,
        "registration_status": r.registration_status,
        "requested_on": r.requested_on,
        "first_seen_at": T0,
        "status_since": T0,
    }


def test_unreachable_database_is_one_line_without_password() -> None:
    with socket.socket() as sock:  # a port on 127.0.0.1 that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = db.make_engine(f"postgresql://fw:s3cr3t-pw@127.0.0.1:{port}/fw")
    try:
        with pytest.raises(db.DatabaseError) as caught:
            Store(engine).last_success_id()
    finally:
        engine.dispose()
    message = str(caught.value)
    assert message.startswith(
        f"cannot connect to database postgresql+psycopg://fw:***@127.0.0.1:{port}/fw: "
    )
    assert "s3cr3t" not in message
    assert "\n" not in message


def test_sqlite_parent_directory_is_created(tmp_path: object) -> None:
    target = f"{tmp_path}/nested/dir/flinkswatch.db"
    engine = db.make_engine(f"sqlite:///{target}")
    try:
        db.ping(engine)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def _table_rows(engine: sa.Engine, table: sa.Table) -> list[tuple[Any, ...]]:
    """Every row of `table` without its serial ids (its own, its poll's), in key order."""
    columns = [c for c in table.c if c.name not in ("id", "poll_id")]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(*columns).order_by(*columns))]


def test_the_bulk_path_stores_exactly_what_the_plain_path_stores(
    store: Store, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a large cycle goes by binary COPY with the table's own column types: every
    column, None, a long name, non-ASCII text, a fraction of a second and the details JSON read
    back as from plain INSERTs (on SQLite both are one path)."""
    from app.db import store as store_module
    from app.db.tables import metadata, registration_events

    names = ["Caisse Desjardins é ü 東京 \U0001f3e6", "x" * 500, "tab\tand\\backslash"]
    regs = [reg(f"client-{i}", i, client_name=names[i % 3]) for i in range(30)]
    later = T0 + timedelta(hours=1, microseconds=123456)
    moved = [replace(r, registration_status="ACTIVE", provider_name="Bank é") for r in regs]
    changed = tuple(
        stored(m, later, missing_polls=i % 2, present=i % 5 != 0) for i, m in enumerate(moved)
    )
    events = tuple(
        ev(
            EventKind.DETAILS_CHANGED if i % 2 else EventKind.STATUS_CHANGED,
            m,
            later,
            from_status="PENDING_APPROVAL",
            previous_status_since=None if i % 3 else T0,
            changes=(("provider_name", "Bank", "Bank é"),) if i % 2 else (),
        )
        for i, m in enumerate(moved)
    )

    def recorded(threshold: int) -> list[list[tuple[Any, ...]]]:
        monkeypatch.setattr(store_module, "_COPY_THRESHOLD", threshold)
        baseline(store, regs)
        cycle(store, later, changed, events)
        found = [_table_rows(engine, t) for t in (registrations, registration_events)]
        with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
        return found

    plain, bulk = recorded(10**9), recorded(0)

    assert bulk == plain
    assert len(plain[0]) == 30
    assert len(plain[1]) == 60
