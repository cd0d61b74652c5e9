"""Issue 13: a cycle that reads its answer row by row validates and diffs only the rows that are
not byte-identical to the ones the state was read from (the row index, written with the state),
and records exactly what a cycle that validates the whole answer records: the same state, the
same events, the same polls, the same alerts; warm (one process) or cold (one per cycle), on
both backends."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec
import pytest
import sqlalchemy as sa

from app.core.rowprints import Fetched
from app.db import engine as db
from app.db.outbox import Outbox
from app.db.store import Store
from app.db.tables import poll_runs, registration_events, registrations, row_index
from app.domain import Key, StoredRegistration
from app.flinks.listing import parse_answer
from app.flinks.rows import fetched
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.integration.test_poll import FakeChannel, row

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _listing(moved: Collection[int] = (), gone: Collection[int] = ()) -> list[dict[str, Any]]:
    return [
        row(f"dc-{n % 7}", n, "ACTIVE" if n in moved else "PENDING_APPROVAL")
        for n in range(40)
        if n not in gone
    ]


def _scenario() -> list[bytes]:
    base = _listing()
    renamed = [dict(r, client_name="Renamed") if r["provider_id"] == 3 else r for r in base]
    conflict = [*_listing(moved={1}), row("dc-2", 2, "ACTIVE")]  # a known row conflicting
    bodies: list[Any] = [
        base,
        [*reversed(_listing(moved={1, 2})), row("new", 99)],  # moved, added, reordered
        None,  # the same rows written differently (indented): all validated, nothing moves
        conflict,  # a partial answer: the key of the conflict is skipped, no removal counted
        _listing(moved={1}, gone={5, 6}),  # 5 and 6 missing once
        _listing(moved={1}, gone={5, 6}),  # identical body: not validated at all
        _listing(moved={1}, gone={5}),  # 6 is back before its removal, 5 missing twice: removed
        [*_listing(moved={1}), {"client_id": " "}],  # 5 reappears, a bad row: partial
        [*_listing(moved={1}), {"client_id": " "}],  # identical to a partial one: validated again
        renamed,  # details changed, 1 moved back
        base,
    ]
    out = []
    for index, rows in enumerate(bodies):
        if rows is None:
            out.append(json.dumps(bodies[index - 1], indent=1).encode())
        else:
            out.append(json.dumps(rows, separators=(",", ":")).encode())
    return out


def _whole(body: bytes) -> Fetched:
    """The answer validated whole, as before issue 13 (and as any body not read row by row)."""
    return Fetched(lambda: parse_answer(body), hashlib.sha256(body).hexdigest(), len(body))


@dataclass
class Bodies:
    bodies: list[bytes]
    read: Callable[[bytes], Fetched]
    served: int = 0

    def fetch(self) -> Fetched:
        body = self.bodies[self.served]
        self.served += 1
        return self.read(body)


class CountingStore(Store):
    """A Store that counts how much of the state the cycles read."""

    whole_reads: ClassVar[int] = 0
    keys_read: ClassVar[list[int]] = []

    def load_state(self) -> dict[Key, StoredRegistration]:
        type(self).whole_reads += 1
        return super().load_state()

    def load_some(self, keys: Collection[Key]) -> dict[Key, StoredRegistration]:
        type(self).keys_read.append(len(keys))
        return super().load_some(keys)


def _run(engine: sa.Engine, mode: str) -> tuple[list[Any], list[tuple[str, ...]]]:
    source = Bodies(_scenario(), _whole if mode == "whole" else fetched)
    clock, channel = FakeClock(T0), FakeChannel()

    def poller() -> Poller:
        store = CountingStore(engine)
        outbox = Outbox(engine)
        return Poller(source, store, outbox, [channel], clock=clock, sleep=lambda _s: None)

    warm = poller()
    while source.served < len(source.bodies):
        (warm if mode != "cold" else poller()).poll_once()
        clock.advance(minutes=5)
    return _snapshot(engine), channel.sent


def _snapshot(engine: sa.Engine) -> list[Any]:
    e, p = registration_events.c, poll_runs.c
    with engine.connect() as conn:
        regs = conn.execute(sa.select(registrations).order_by(*registrations.primary_key)).all()
        evs = conn.execute(sa.select(*(c for c in e if c.name != "id")).order_by(e.id)).all()
        runs = conn.execute(
            sa.select(p.outcome, p.rows_seen, p.rows_skipped, p.events, p.answer_digest)
        ).all()
    return [regs, evs, runs]


@pytest.fixture
def fresh(engine: sa.Engine) -> Callable[[], None]:
    def again() -> None:
        db.downgrade(engine, "base")
        db.migrate(engine)

    return again


def test_row_by_row_records_exactly_what_the_whole_answer_records(
    engine: sa.Engine, fresh: Callable[[], None]
) -> None:
    expected = _run(engine, "whole")
    assert CountingStore.whole_reads > 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(row_index)).scalar() == 0
    for mode in ("warm", "cold"):
        fresh()
        CountingStore.whole_reads, CountingStore.keys_read = 0, []
        assert _run(engine, mode) == expected, mode
        if mode == "cold":
            # Only three cycles read the whole state: the first sync (no index yet) and the
            # two after which every row is written differently (indented, then compact
            # again). The others read the registrations their changed and missing rows touch.
            assert CountingStore.whole_reads == 3
            assert CountingStore.keys_read
            assert max(CountingStore.keys_read) < 20


def test_the_index_lists_every_present_registration_and_a_whole_answer_drops_it(
    engine: sa.Engine,
) -> None:
    body = _scenario()[1]
    clock = FakeClock(T0)
    store = Store(engine)
    poller = Poller(
        Bodies([body, body], fetched), store, Outbox(engine), [FakeChannel()], clock=clock
    )
    poller.poll_once()
    index = store.row_index()
    assert index is not None
    assert len(index.present) == len(index.prints) == 41
    changed = json.dumps(json.loads(body)[1:]).encode()
    Poller(
        Bodies([changed], _whole), store, Outbox(engine), [FakeChannel()], clock=clock
    ).poll_once()
    assert store.row_index() is None


def test_an_index_that_does_not_match_the_table_is_ignored_and_rewritten(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    bodies = _scenario()[:2]
    clock, store = FakeClock(T0), Store(engine)
    source = Bodies(bodies, fetched)
    Poller(source, store, Outbox(engine), [FakeChannel()], clock=clock).poll_once()
    with engine.begin() as conn:
        conn.execute(sa.update(row_index).values(present=39))  # as if it lagged the table
    with caplog.at_level(logging.WARNING, logger="app.db.rowindex"):
        result = Poller(source, store, Outbox(engine), [FakeChannel()], clock=clock).poll_once()
    assert "rowindex.ignored reason=lists 39 registrations, 40 present" in caplog.text
    assert result.events == 3  # two moves and one new registration, found by the whole diff
    index = store.row_index()
    assert index is not None
    assert len(index.present) == 41


def test_an_index_out_of_step_with_rows_deleted_by_hand_falls_back_to_the_whole_state(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows deleted by hand (the count kept by another row): a cycle that would look for one
    of them reads the whole state instead of failing, and the next index is built from it."""
    base = _listing()
    bodies = [json.dumps(b).encode() for b in (base, [r for r in base if r["provider_id"] != 3])]
    clock, store = FakeClock(T0), Store(engine)
    source = Bodies(bodies, fetched)
    Poller(source, store, Outbox(engine), [FakeChannel()], clock=clock).poll_once()
    r = registrations.c
    with engine.begin() as conn:
        ghost = conn.execute(sa.select(registrations).where(r.provider_id == 3)).one()._asdict()
        conn.execute(sa.delete(registrations).where(r.provider_id == 3))
        conn.execute(sa.insert(registrations).values({**ghost, "client_id": "ghost"}))
    clock.advance(minutes=5)
    with caplog.at_level(logging.WARNING, logger="app.watch.poll"):
        result = Poller(source, store, Outbox(engine), [FakeChannel()], clock=clock).poll_once()
    assert "rowindex.out_of_step missing=1: the whole state is read" in caplog.text
    assert result.outcome.value == "ok"
    index = store.row_index()
    assert index is not None
    assert ("ghost", 3) in index.present  # from the table, so the next cycles count it missing
    assert ("dc-3", 3) not in index.present


def test_an_index_written_as_a_list_of_pairs_is_still_read(engine: sa.Engine) -> None:
    """The first index of migration 0007 was a list of [key, print] pairs, the next ones a map:
    an index left by the older release is read, not ignored."""
    bodies = _scenario()[:1]
    store = Store(engine)
    Poller(Bodies(bodies, fetched), store, Outbox(engine), [FakeChannel()]).poll_once()
    written = store.row_index()
    assert written is not None
    pairs = msgspec.msgpack.encode([[list(key), fp] for key, fp in written.entries.items()])
    with engine.begin() as conn:
        conn.execute(sa.update(row_index).values(entries=pairs))

    again = store.row_index()

    assert again is not None
    assert again.entries == written.entries
    assert len(again.entries) == 40


def test_an_unreadable_index_is_ignored(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(engine)
    Poller(Bodies(_scenario()[:1], fetched), store, Outbox(engine), [FakeChannel()]).poll_once()
    with engine.begin() as conn:
        conn.execute(sa.update(row_index).values(entries=b"\xc1 not msgpack"))

    with caplog.at_level(logging.WARNING, logger="app.db.rowindex"):
        assert store.row_index() is None
    assert "rowindex.ignored reason=unreadable" in caplog.text


def test_a_damaged_map_is_reported_with_the_maps_own_error(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(engine)
    Poller(Bodies(_scenario()[:1], fetched), store, Outbox(engine), [FakeChannel()]).poll_once()
    damaged = msgspec.msgpack.encode({"not a key": b"fp"})
    with engine.begin() as conn:
        conn.execute(sa.update(row_index).values(entries=damaged))

    with caplog.at_level(logging.WARNING, logger="app.db.rowindex"):
        assert store.row_index() is None
    expected = "rowindex.ignored reason=unreadable (Expected `array`, got `str` - at `key`"
    assert expected in caplog.text
