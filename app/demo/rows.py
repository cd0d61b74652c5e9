"""Simulated registration rows, as Flinks lists them: the demo's few and the benchmark's many."""

from __future__ import annotations

import math
import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

NEXT_STATUS = {"PENDING_APPROVAL": "PENDING_ACTIVATION", "PENDING_ACTIVATION": "ACTIVE"}
RECIPIENTS = ("Alpha Lending", "Beta Payroll", "Gamma Wealth")
PROVIDERS = (
    (2000, "NBC", "CA"), (1000, "Flinks Capital", "CA"), (3100, "RBC", "CA"), (3200, "TD", "CA"),
    (3300, "Desjardins", "CA"), (3400, "BMO", "CA"), (5100, "Chase", "US"),
    (5200, "Wells Fargo", "US"),
)  # fmt: skip
Row = dict[str, Any]


def format_timestamp(when: datetime) -> str:
    """.NET style, as Flinks writes it: 7 fractional digits and Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _client_id(rng: random.Random) -> str:
    return "dc-" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=25))


def _row(recipient: tuple[str, str], provider: tuple[int, str, str], when: datetime) -> Row:
    return {
        "client_id": recipient[0],
        "client_name": recipient[1],
        "provider_id": provider[0],
        "provider_name": provider[1],
        "country": provider[2],
        "registration_status": "PENDING_APPROVAL",
        "requested_on": format_timestamp(when),
    }


def demo_rows(
    n: int = 6, rng: random.Random | None = None, now: datetime | None = None
) -> list[Row]:
    """n realistic registrations, all PENDING_APPROVAL, requested in the last three weeks."""
    rng = rng or random.Random()  # noqa: S311 - demo data
    now = now or datetime.now(UTC)
    recipients = [(_client_id(rng), name) for name in RECIPIENTS]
    pairs = [(r, p) for r in recipients for p in PROVIDERS]
    chosen = rng.sample(pairs, min(n, len(pairs)))
    return [_row(r, p, now - timedelta(days=rng.uniform(1, 21))) for r, p in chosen]


def _new_registration(rows: list[Row], rng: random.Random, now: datetime) -> Row:
    """A registration for a pair not yet listed; a new Data Recipient once every pair is."""
    recipients = {row["client_id"]: row["client_name"] for row in rows}
    taken = {(row["client_id"], row["provider_id"]) for row in rows}
    free = [(r, p) for r in recipients.items() for p in PROVIDERS if (r[0], p[0]) not in taken]
    if not free:
        name = RECIPIENTS[len(recipients) % len(RECIPIENTS)]
        return _row((_client_id(rng), f"{name} {len(recipients) + 1}"), rng.choice(PROVIDERS), now)
    recipient, provider = rng.choice(sorted(free))
    return _row(recipient, provider, now)


def bulk_rows(n: int, seed: int = 0) -> list[Row]:
    """n rows with unique keys (50 providers per recipient), statuses spread; for benchmarks."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    per_recipient = 50
    ids: set[str] = set()
    while len(ids) < math.ceil(n / per_recipient):
        ids.add(_client_id(rng))
    recipients = [(cid, f"Recipient {i:05d}") for i, cid in enumerate(sorted(ids))]
    statuses = ("PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE")
    base = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        pid = 1000 + i % per_recipient
        row = _row(
            recipients[i // per_recipient],
            (pid, f"Bank {pid}", "CA" if pid % 4 else "US"),
            base + timedelta(microseconds=rng.randrange(366 * 86_400_000_000)),
        )
        row["registration_status"] = rng.choice(statuses)
        rows.append(row)
    return rows


def mutate_status(rows: list[Row], fraction: float, rng: random.Random) -> list[Row]:
    """New rows in which `fraction` of all rows (as far as possible) moved one step forward."""
    movable = [i for i, row in enumerate(rows) if row.get("registration_status") in NEXT_STATUS]
    chosen = set(rng.sample(movable, min(len(movable), round(fraction * len(rows)))))
    return [
        {**row, "registration_status": NEXT_STATUS[row["registration_status"]]}
        if i in chosen
        else dict(row)
        for i, row in enumerate(rows)
    ]
