"""A moving upstream for the crash tests: registrations advance, appear and disappear in a
FlinksSimulator, and every transition made is logged, so the recorded history can be checked
against it. A registration moves again only once the database shows its last move, so no two
moves can merge into one observed change."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db.engine import DatabaseError, reading
from app.db.tables import registrations
from app.demo.simulator import FlinksSimulator, format_timestamp
from tests.faults.harness import Alert

STATUSES = ("PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE")
Key = tuple[str, int]


def seed_rows(count: int, rng: random.Random) -> list[dict[str, Any]]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return [_row(f"dc-fault{i:04d}", 1000 + i, rng.choice(STATUSES), base) for i in range(count)]


def _row(client_id: str, provider_id: int, status: str, when: datetime) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "client_name": f"Recipient {client_id[-4:]}",
        "provider_id": provider_id,
        "provider_name": f"Bank {provider_id}",
        "country": "CA",
        "registration_status": status,
        "requested_on": format_timestamp(when),
    }


class MovingUpstream:
    """Drives `sim` from a thread: one transition every `every` seconds while running."""

    def __init__(
        self, sim: FlinksSimulator, engine: Engine, rng: random.Random, every: float = 0.15
    ) -> None:
        self.sim = sim
        self.engine = engine
        self.rng = rng
        self.every = every
        self.rows: dict[Key, dict[str, Any]] = {
            (r["client_id"], r["provider_id"]): r for r in sim.rows
        }
        self.log: list[Alert] = []  # every transition the upstream made
        self.removed: set[Key] = set()
        self._next_id = 5000
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="upstream", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(timeout=10)

    def expected(self) -> Counter[Alert]:
        return Counter(self.log)

    def _loop(self) -> None:
        while not self._halt.wait(self.every):
            try:
                self.step()
            except DatabaseError:
                continue  # e.g. SQLite busy for a moment: try again on the next tick

    def settled(self) -> set[Key]:
        """Keys whose current upstream state the database already shows."""
        r = registrations.c
        with reading(self.engine) as conn:
            stored = {
                (row.client_id, row.provider_id): (row.registration_status, row.present)
                for row in conn.execute(sa.select(r.client_id, r.provider_id, *_STATE))
            }
        done = {k for k, row in self.rows.items() if stored.get(k) == (_status(row), True)}
        gone = {k for k, state in stored.items() if k not in self.rows and not state[1]}
        return done | gone

    def in_sync(self) -> bool:
        """The database shows every registration as upstream has it, removals included."""
        settled = self.settled()
        return all(k in settled for k in self.rows) and self.removed <= settled

    def step(self) -> None:
        settled = [k for k in self.rows if k in self.settled()]
        roll = self.rng.random()
        if roll < 0.15 or not settled:
            self._add()
        elif roll < 0.22 and len(self.rows) > 10:
            self._remove(self.rng.choice(settled))
        else:
            self._move(self.rng.choice(settled))
        self.sim.set_rows(list(self.rows.values()))

    def _add(self) -> None:
        self._next_id += 1
        row = _row(f"dc-new{self._next_id:05d}", self._next_id, "PENDING_APPROVAL", _now())
        self.rows[(row["client_id"], row["provider_id"])] = row
        self.log.append(("added", row["client_id"], row["provider_id"], None, _status(row)))

    def _remove(self, key: Key) -> None:
        row = self.rows.pop(key)
        self.removed.add(key)
        self.log.append(("removed", key[0], key[1], _status(row), None))

    def _move(self, key: Key) -> None:
        row = self.rows[key]
        old = _status(row)
        # Forward along the lifecycle; from ACTIVE back to the start (a backward move).
        new = STATUSES[(STATUSES.index(old) + 1) % len(STATUSES)]
        row["registration_status"] = new
        self.log.append(("status_changed", key[0], key[1], old, new))


_STATE = (registrations.c.registration_status, registrations.c.present)


def _status(row: dict[str, Any]) -> str:
    return str(row["registration_status"])


def _now() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=1)
