"""`report` from a seeded history with known medians, on SQLite and PostgreSQL: the queries of
app/db/reports.py folded by app/core/report.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core.report import Report
from app.db import engine as db
from app.db.reports import load_report, report_history
from app.db.tables import poll_runs, registration_events, registrations

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)  # the baseline poll
D = timedelta(days=1)
NOW = T0 + 20 * D
RULES = {"PENDING_APPROVAL": 7 * D, "PENDING_ACTIVATION": 14 * D}
PA, PACT, ACTIVE = "PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE"

# client, provider, requested_on, [(event, from, to, observed_at, previous_status_since)]
HISTORY = [
    # NBC, seen mid-way at the baseline: its PENDING_APPROVAL stay began out of sight.
    ("a", 2000, T0 - 10 * D, [("baseline", None, PA, T0, None),
                              ("status_changed", PA, PACT, T0 + 2 * D, T0),
                              ("status_changed", PACT, ACTIVE, T0 + 5 * D, T0 + 2 * D)]),
    ("b", 2000, T0 + D, [("added", None, PA, T0 + D, None),
                         ("status_changed", PA, PACT, T0 + 3 * D, T0 + D),
                         ("status_changed", PACT, ACTIVE, T0 + 7 * D, T0 + 3 * D)]),
    ("c", 2000, T0 + D, [("added", None, PA, T0 + D, None),
                         ("details_changed", PA, PA, T0 + 2 * D, None),
                         ("status_changed", PA, PACT, T0 + 5 * D, T0 + D),
                         ("status_changed", PACT, ACTIVE, T0 + 6 * D, T0 + 5 * D)]),
    ("d", 2000, T0 - 30 * D, [("baseline", None, ACTIVE, T0, None)]),  # never activated here
    ("e", 2000, T0 + 2 * D, [("added", None, PA, T0 + 2 * D, None)]),  # stuck 18 days
    ("f", 3000, T0 - 5 * D, [("baseline", None, PACT, T0, None)]),  # stuck 20 days
    ("g", 3000, T0 - 5 * D, [("baseline", None, PA, T0, None),
                             ("removed", PA, None, T0 + 4 * D, T0)]),  # gone: not stuck
]  # fmt: skip


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    _seed(engine)
    yield engine
    engine.dispose()


def _seed(engine: sa.Engine) -> None:
    names = {2000: "NBC", 3000: "Bank B"}
    events, states = [], []
    for client, provider, requested, moves in HISTORY:
        common = {
            "client_id": client,
            "client_name": f"Client {client}",
            "provider_id": provider,
            "provider_name": names[provider],
            "country": "CA",
            "requested_on": requested,
        }
        for kind, frm, to, at, since in moves:
            events.append(
                common
                | {"poll_id": 1, "event": kind, "from_status": frm, "to_status": to}
                | {"observed_at": at, "previous_status_since": since}
            )
        last = moves[-1]
        states.append(
            common
            | {"registration_status": last[2] or last[1], "first_seen_at": moves[0][3]}
            | {"status_since": last[3] if last[0] != "removed" else T0}
            | {"present": last[0] != "removed", "missing_polls": 0}
        )
    events.sort(key=lambda e: e["observed_at"])  # the order the watcher recorded them in
    with engine.begin() as conn:
        conn.execute(
            poll_runs.insert(), [{"id": 1, "started_at": T0, "finished_at": T0, "outcome": "ok"}]
        )
        conn.execute(registration_events.insert(), events)
        conn.execute(registrations.insert(), states)


def _days(value: timedelta | None) -> float | None:
    return None if value is None else round(value / D, 6)


def test_medians_and_percentiles_per_provider(engine: sa.Engine) -> None:
    report = load_report(engine, NOW, RULES)
    bank, nbc = report.providers  # by name
    assert (nbc.provider_id, nbc.registrations) == (2000, 5)
    # Kaplan-Meier to ACTIVE from requested_on: c 5 days, b 6, a 15 (under watch from 10
    # days: left truncation), e still waiting at 18 (censored); d was first seen ACTIVE.
    # S(5) = 2/3, S(6) = 1/3, S(15) = 1/6: median 6 days, never down to 0.1 (no p90).
    assert (nbc.to_active.count, nbc.to_active.censored) == (3, 1)
    assert (_days(nbc.to_active.median), _days(nbc.to_active.p90)) == (6, None)
    # In PENDING_APPROVAL since the request: b 2 days, c 4, a 12 (entered at 10), e going.
    approval = nbc.in_status[PA]
    assert (approval.count, approval.censored, _days(approval.median)) == (3, 1, 4)
    activation = nbc.in_status[PACT]  # a 3 days, b 4, c 1
    assert (activation.count, _days(activation.median), _days(activation.p90)) == (3, 3, 4)
    assert list(nbc.in_status) == [ACTIVE, PACT, PA]
    assert (bank.provider_name, bank.registrations, bank.to_active.count) == ("Bank B", 1, 0)
    # f and g still waiting or removed while waiting: censored, no activation seen
    assert bank.to_active.censored == 2


def test_stuck_now_longest_first(engine: sa.Engine) -> None:
    report: Report = load_report(engine, NOW, RULES)
    stuck = [(s.state.registration.client_id, _days(s.in_status)) for s in report.stuck]
    assert stuck == [("f", 20), ("e", 18)]
    assert load_report(engine, NOW, {}).stuck == ()
    later = load_report(engine, NOW, {PA: 19 * D, PACT: 19 * D})
    assert [s.state.registration.client_id for s in later.stuck] == ["f"]


def test_history_since_keeps_recent_moves_and_every_first_sighting(engine: sa.Engine) -> None:
    rows = report_history(engine, since=T0 + 4 * D)
    moves = {(r.client_id, r.to_status) for r in rows if r.event == "status_changed"}
    # every activation (what ended before the window), and the moves within it
    assert moves == {("a", ACTIVE), ("b", ACTIVE), ("c", PACT), ("c", ACTIVE)}
    assert {r.client_id for r in rows if r.event == "baseline"} == {"a", "d", "f", "g"}
    assert all(r.event != "details_changed" for r in rows)
    assert [r.client_id for r in rows if r.event == "removed"] == ["g"]  # censors its wait
    assert all(r.observed_at.tzinfo is not None for r in rows)
