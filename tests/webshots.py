"""Realistic data for the README's screenshots and the browser tests of /providers (issue 24):
20 recipients over 12 providers, six months of requests each bank answers at its own pace,
so most are ACTIVE, the recent ones pending, a few stuck or late (slower than 90% of that
bank's activations), one in a status Flinks does not document, one acknowledged; hours of
quiet polls, a failed one and a delivery being retried."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.db import acks
from app.db.tables import deliveries, poll_runs, registration_events, registrations
from app.demo.rows import PROVIDERS
from tests.webseed import NOW

PA, PACT, ACTIVE = "PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE"
MORE = ((3500, "Scotiabank", "CA"), (3600, "CIBC", "CA"), (3700, "Tangerine", "CA"),
        (5300, "Bank of America", "US"))  # fmt: skip
RECIPIENTS = ("Alpha Lending", "Beta Payroll", "Gamma Wealth", "Northwind Credit",
              "Maple Leaf Mortgages", "Harbour Payments", "Prairie Capital", "Summit Leasing",
              "Lakeshore Finance", "Cedar Insurance", "Aurora Pay", "Birchwood Loans",
              "Coastline Credit Union", "Dominion Rent", "Evergreen Savings", "Fjord Data",
              "Granite Trust", "Horizon Tax", "Islander Auto Finance",
              "Juniper Wealth")  # fmt: skip
# Each bank's typical days to approve, then to activate (a median; some take much longer).
PACE = (1.5, 3.0), (2.0, 4.0), (3.0, 5.0), (1.0, 2.5), (4.0, 7.0), (2.5, 3.5), (1.5, 5.0)
Row = dict[str, Any]


def realistic(engine: sa.Engine) -> None:
    rng = random.Random(9)
    banks = (*PROVIDERS, *MORE)
    states: list[Row] = []
    events: list[Row] = []
    for r, name in enumerate(RECIPIENTS):
        joined = NOW - timedelta(days=rng.uniform(3, 180))  # a customer since
        for b, bank in sorted(rng.sample(list(enumerate(banks)), rng.randint(7, 11))):
            common = {"client_id": f"rcp-{r:03d}", "client_name": name, "provider_id": bank[0],
                      "provider_name": bank[1], "country": bank[2]}  # fmt: skip
            later = rng.uniform(0, (NOW - joined).days) if rng.random() < 0.5 else 0.5
            requested = min(NOW - timedelta(hours=5), joined + _days(rng, later, 0.3))
            state, moves = _life(rng, common | {"requested_on": requested}, PACE[b % len(PACE)])
            states.append(state)
            events += moves
    _oddities(states, events)
    events.sort(key=lambda e: e["observed_at"])  # recorded as they were observed
    with engine.begin() as conn:
        conn.execute(poll_runs.insert(), _polls())
        conn.execute(registration_events.insert(), events)
        conn.execute(registrations.insert(), states)
        conn.execute(deliveries.insert(), _retried())
    _acknowledge(engine, states)


def _days(rng: random.Random, median: float, spread: float) -> timedelta:
    """A duration around `median` days, log-normal: most near it, a few far longer."""
    return timedelta(days=median * math.exp(rng.gauss(0, spread)))


def _life(rng: random.Random, common: Row, pace: tuple[float, float]) -> tuple[Row, list[Row]]:
    """One registration's moves up to NOW, as the poller (every few minutes) observed them;
    one in six sits with the bank five times as long at one step."""
    requested: datetime = common["requested_on"]
    slow = [1.0, 1.0]
    if rng.random() < 1 / 6:  # the bank sits on it, at one step or the other
        slow[rng.randrange(2)] = 5.0
    approved = requested + _days(rng, pace[0] * slow[0], 0.6)
    activated = approved + _days(rng, pace[1] * slow[1], 0.6)
    path = [(requested + timedelta(minutes=rng.randint(1, 5)), PA)]
    path += [(at, status) for at, status in ((approved, PACT), (activated, ACTIVE)) if at <= NOW]
    moves, since = [], requested  # PENDING_APPROVAL since the request (exact)
    for i, (observed, status) in enumerate(path):
        moves.append(common | {"poll_id": 1, "event": "status_changed" if i else "added",
                               "observed_at": observed, "to_status": status,
                               "from_status": path[i - 1][1] if i else None,
                               "previous_status_since": since if i else None})  # fmt: skip
        since = observed if i else requested
    state = common | {"registration_status": path[-1][1], "first_seen_at": path[0][0],
                      "status_since": since, "present": True, "missing_polls": 0}  # fmt: skip
    return state, moves


def _oddities(states: list[Row], events: list[Row]) -> None:
    """One pending registration moved to a status Flinks does not document, two days ago."""
    odd = next(s for s in states if s["registration_status"] == PACT)
    at = NOW - timedelta(days=2, hours=3)
    keys = ("client_id", "client_name", "provider_id", "provider_name", "country", "requested_on")
    events.append({k: odd[k] for k in keys} | {"poll_id": 1, "event": "status_changed",
                  "observed_at": at, "from_status": PACT, "to_status": "ON_HOLD",
                  "previous_status_since": odd["status_since"]})  # fmt: skip
    odd |= {"registration_status": "ON_HOLD", "status_since": at}


def _polls() -> list[Row]:
    """Six hours of polls every minute, the last 40 s ago: one failed, one with events."""
    starts = [NOW - timedelta(minutes=360 - i, seconds=42) for i in range(360)]
    polls = [{"id": i + 1, "started_at": at, "finished_at": at + timedelta(seconds=2),
              "outcome": "ok", "rows_seen": 160, "events": 0}
             for i, at in enumerate(starts)]  # fmt: skip
    polls[200] |= {"outcome": "failed", "failure_kind": "http", "error": "Flinks: 503"}
    polls[300] |= {"events": 2}
    return polls


def _retried() -> list[Row]:
    """The email of poll 301's events, refused for now by the mail server, being retried."""
    return [{"poll_id": 301, "channel": "email", "kind": "event", "status": "pending",
             "attempts": 3, "last_error": "SMTP 451 4.7.1 try again later",
             "created_at": NOW - timedelta(minutes=60),
             "next_attempt_at": NOW + timedelta(minutes=4)}]  # fmt: skip


def _acknowledge(engine: sa.Engine, states: list[Row]) -> None:
    """The longest waiting in PENDING_APPROVAL is taken: Maya asked the bank."""
    waiting = [s for s in states if s["registration_status"] == PA]
    oldest = min(waiting, key=lambda s: s["requested_on"])
    request = acks.Request((str(oldest["client_id"]), int(oldest["provider_id"])), by="Maya",
                           note="asked the bank")  # fmt: skip
    acks.take(engine, request, NOW - timedelta(hours=3))
