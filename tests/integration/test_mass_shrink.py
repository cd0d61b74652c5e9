"""The mass-shrink guard with a real database (SPEC 2): held removals, one alert per hold,
`flinkswatch accept-removals`, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.cli.commands import main
from app.db.outbox import Outbox
from app.db.store import Store
from app.db.tables import registrations, removal_holds
from app.domain import BaselineSummary, Event, HoldState, RemovalsHeld
from app.notify.channel import Outgoing
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.integration.test_poll import FakeChannel, FakeSource, events, row

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FULL = [row(f"c{i:04d}", 1) for i in range(1000)]


@dataclass
class HoldChannel(FakeChannel):
    """FakeChannel that names a removals-held alert `held:listed/present`."""

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        if not isinstance(summary, RemovalsHeld):
            return super().render(events, summary)
        label = f"held:{summary.listed}/{summary.present}"

        def send() -> str | None:
            self.sent.append((label,))
            return None

        return [Outgoing((), True, send)]


@dataclass
class World:
    engine: sa.Engine
    source: FakeSource
    channels: tuple[HoldChannel, HoldChannel]
    clock: FakeClock

    def poller(self) -> Poller:
        # A new Poller each cycle: what `poll` from cron does (nothing kept in memory).
        return Poller(
            source=self.source,
            store=Store(self.engine),
            outbox=Outbox(self.engine),
            channels=list(self.channels),
            removal_confirm_polls=2,
            removal_hold_percent=50,
            clock=self.clock,
            sleep=lambda _s: None,
        )

    def poll(self, times: int = 1) -> None:
        for _ in range(times):
            self.clock.advance(minutes=5)
            self.poller().poll_once()

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in events(self.engine) if kind != "baseline"]

    def present(self) -> int:
        stmt = sa.select(sa.func.count()).where(registrations.c.present.is_(True))
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())


@pytest.fixture
def world(engine: sa.Engine) -> World:
    channels = (HoldChannel(name="slack"), HoldChannel(name="email"))
    found = World(engine, FakeSource(list(FULL)), channels, FakeClock(T0))
    found.poll()  # the baseline of 1,000
    return found


def sent(world: World) -> list[list[tuple[str, ...]]]:
    return [[m for m in ch.sent if not m[0].startswith("summary")] for ch in world.channels]


def test_shrink_to_ten_is_held_and_alerted_once_per_channel(world: World) -> None:
    world.source.rows = FULL[:10]
    world.poll(4)
    assert world.kinds() == []
    assert world.present() == 1000
    assert sent(world) == [[("held:10/1000",)], [("held:10/1000",)]]
    assert Store(world.engine).removal_hold() is HoldState.ACTIVE


def test_rows_back_end_the_hold_with_nothing_announced(world: World) -> None:
    world.source.rows = FULL[:10]
    world.poll(3)
    world.source.rows = list(FULL)
    world.poll(2)
    assert world.kinds() == []
    assert Store(world.engine).removal_hold() is HoldState.NONE
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(removal_holds.c.closed_at)).scalar_one() is not None
    # A later shrink is a new hold, alerted again.
    world.source.rows = FULL[:10]
    world.poll()
    assert sent(world)[0] == [("held:10/1000",), ("held:10/1000",)]


def test_accept_removals_lets_them_happen_on_the_next_cycle(
    world: World, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["accept-removals"]) == 0
    assert "no removal hold" in capsys.readouterr().out
    world.source.rows = FULL[:10]
    world.poll(2)
    assert main(["accept-removals"]) == 0
    out = capsys.readouterr().out
    assert "Flinks listed 10 of 1,000" in out
    assert "990 removals will follow on the next cycle" in out
    assert Store(world.engine).removal_hold() is HoldState.ACCEPTED
    world.poll()
    assert world.kinds() == ["removed"] * 990
    assert world.present() == 10
    world.poll()  # a normal answer for the 10 left: the hold ends
    assert Store(world.engine).removal_hold() is HoldState.NONE
    assert world.kinds() == ["removed"] * 990
    assert main(["accept-removals"]) == 0
    assert "no removal hold" in capsys.readouterr().out


def test_two_empty_answers_in_a_row_are_held(world: World) -> None:
    world.source.rows = []
    world.poll(2)
    assert world.kinds() == []
    assert world.present() == 1000
    assert sent(world)[1] == [("held:0/1000",)]


def test_small_removals_are_not_held(world: World) -> None:
    world.source.rows = FULL[5:]
    world.poll(2)
    assert world.kinds() == ["removed"] * 5
    assert sent(world)[0] == [
        tuple(f"removed:c{i:04d}/1" for i in range(5)),
    ]


def test_accept_removals_never_creates_a_database(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"{tmp_path}/none.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{target}")
    assert main(["accept-removals"]) == 2
    assert "no database" in capsys.readouterr().err
    import os

    assert not os.path.exists(target)
