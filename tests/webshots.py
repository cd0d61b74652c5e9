"""Realistic data for the README's screenshots (issue 24): the demo's recipients and providers
and a few more, 12 providers, months of moves, some registrations stuck, one in a status Flinks
does not document, one acknowledged, hours of quiet polls and a failed one."""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from app.db import acks
from app.db.tables import poll_runs, registration_events, registrations
from app.demo.rows import PROVIDERS
from tests.webseed import NOW

PA, PACT, ACTIVE = "PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE"
MORE = ((3500, "Scotiabank", "CA"), (3600, "CIBC", "CA"), (3700, "Tangerine", "CA"),
        (5300, "Bank of America", "US"))  # fmt: skip
RECIPIENTS = ("Alpha Lending", "Beta Payroll", "Gamma Wealth", "Northwind Credit",
              "Maple Leaf Mortgages", "Harbour Payments", "Prairie Capital", "Summit Leasing",
              "Lakeshore Finance", "Cedar Insurance")  # fmt: skip


def realistic(engine: sa.Engine) -> None:
    rng = random.Random(24)
    starts = [NOW - timedelta(minutes=360 - i, seconds=42) for i in range(360)]  # last: 40 s ago
    polls = [{"id": i + 1, "started_at": at, "finished_at": at + timedelta(seconds=2),
              "outcome": "ok", "rows_seen": 96, "events": 0}
             for i, at in enumerate(starts)]  # fmt: skip
    polls[200] |= {"outcome": "failed", "failure_kind": "http", "error": "Flinks: 503"}
    polls[300] |= {"events": 2}
    states, events = [], []
    for r, name in enumerate(RECIPIENTS):
        for provider_id, provider, country in rng.sample((*PROVIDERS, *MORE), rng.randint(6, 10)):
            requested = NOW - timedelta(days=rng.randint(1, 24), hours=rng.randint(0, 23))
            path = [PA, PACT, ACTIVE][: rng.choice((1, 2, 2, 3, 3, 3))]
            common = {"client_id": f"rcp-{r:03d}", "client_name": name,
                      "provider_id": provider_id, "provider_name": provider,
                      "country": country, "requested_on": requested}  # fmt: skip
            at = requested + timedelta(hours=2)
            kind: str = "added"
            for i, status in enumerate(path):
                events.append(common | {"poll_id": 1, "event": kind, "observed_at": at,
                                        "from_status": path[i - 1] if i else None,
                                        "to_status": status})  # fmt: skip
                since, kind = at, "status_changed"
                at = min(NOW, at + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 20)))
            states.append(common | {"registration_status": path[-1], "first_seen_at": requested,
                                    "status_since": since, "present": True,
                                    "missing_polls": 0})  # fmt: skip
    states[5] |= {"registration_status": "ON_HOLD", "status_since": NOW - timedelta(days=2)}
    events.sort(key=lambda e: e["observed_at"])  # recorded as they were observed
    with engine.begin() as conn:
        conn.execute(poll_runs.insert(), polls)
        conn.execute(registration_events.insert(), events)
        conn.execute(registrations.insert(), states)
    stuck = next(s for s in states if s["registration_status"] == PA)
    request = acks.Request((str(stuck["client_id"]), int(stuck["provider_id"])), by="Maya",
                           note="asked the bank")  # fmt: skip
    acks.take(engine, request, NOW)
