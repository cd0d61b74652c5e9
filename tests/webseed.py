"""A seeded database for the web page's tests (Flask test client and the browser): a few
recipients and providers in every status, one stuck, one with a Slack thread, hostile text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.db.tables import (
    deliveries,
    poll_runs,
    registration_events,
    registrations,
    slack_threads,
    watcher_notices,
)

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # the baseline poll
D = timedelta(days=1)
NOW = T0 + 40 * D
STUCK_AFTER = {"PENDING_APPROVAL": 7 * D, "PENDING_ACTIVATION": 14 * D}
PA, PACT, ACTIVE = "PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE"
HOSTILE = "<script>alert(1)</script> <!channel> \"q\" 'x' & co"

RECIPIENTS = {"alpha": "Alpha Lending", "beta": "Beta Credit", "evil": HOSTILE}
PROVIDERS = {2000: ("NBC", "CA"), 3000: ("Chase", "US"), 4000: ("Desjardins", "CA")}
# client, provider, [(event, from, to, day observed)]
HISTORY = [
    ("alpha", 2000, [("baseline", None, PA, 0), ("status_changed", PA, PACT, 3),
                     ("status_changed", PACT, ACTIVE, 10)]),
    ("alpha", 3000, [("added", None, PA, 5)]),  # stuck: 35 days in PENDING_APPROVAL
    ("alpha", 4000, [("added", None, PA, 36), ("status_changed", PA, PACT, 38)]),
    ("beta", 2000, [("baseline", None, ACTIVE, 0)]),
    ("beta", 4000, [("baseline", None, PA, 0), ("status_changed", PA, PACT, 20),
                    ("status_changed", PACT, ACTIVE, 30)]),
    ("evil", 3000, [("added", None, PACT, 33)]),
]  # fmt: skip


def seed(engine: sa.Engine) -> None:
    events, states = [], []
    for client, provider, moves in HISTORY:
        name, country = PROVIDERS[provider]
        common = {
            "client_id": client,
            "client_name": RECIPIENTS[client],
            "provider_id": provider,
            "provider_name": name,
            "country": country,
            "requested_on": T0 - 3 * D,
        }
        since = None  # as the poller records a move: when the status it leaves began
        for kind, frm, to, day in moves:
            events.append(
                common
                | {"poll_id": 1, "event": kind, "from_status": frm, "to_status": to}
                | {"observed_at": T0 + day * D, "previous_status_since": since}
            )
            since = T0 + day * D
        last = moves[-1]
        states.append(
            common
            | {"registration_status": last[2], "first_seen_at": T0 + moves[0][3] * D}
            | {"status_since": T0 + last[3] * D, "present": True, "missing_polls": 0}
        )
    events.sort(key=lambda e: e["observed_at"])
    with engine.begin() as conn:
        conn.execute(
            poll_runs.insert(),
            {"id": 1, "started_at": T0, "finished_at": T0, "outcome": "ok", "rows_seen": 6},
        )
        conn.execute(
            poll_runs.insert(),
            {"id": 2, "started_at": NOW - D, "finished_at": NOW - D, "outcome": "failed",
             "failure_kind": "http", "error": "Flinks unavailable: 503 " + HOSTILE},
        )  # fmt: skip
        conn.execute(registration_events.insert(), events)
        conn.execute(registrations.insert(), states)
        conn.execute(
            slack_threads.insert(),
            [{"destination": "slack:#nbc", "client_id": "alpha", "provider_id": 2000,
              "slack_channel": "C0123", "ts": "1700000000.000100", "created_at": T0}],
        )  # fmt: skip
        conn.execute(
            watcher_notices.insert(),
            [{"id": 1, "poll_id": 2, "kind": "watcher_blind", "since": NOW - D,
              "failures": 3, "last_error": "Flinks unavailable: 503", "created_at": NOW - D}],
        )  # fmt: skip
        conn.execute(
            deliveries.insert(),
            [{"poll_id": 1, "channel": "slack", "kind": "event", "status": "failed",
              "attempts": 10, "last_error": "channel_not_found " + HOSTILE, "created_at": T0},
             {"poll_id": 1, "channel": "email", "kind": "event", "status": "pending",
              "attempts": 1, "last_error": "SMTP 451", "created_at": T0}],
        )  # fmt: skip
