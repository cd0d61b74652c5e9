"""Issue 24: the Activity page leads with problems and folds quiet polls; a stuck reminder is
drawn as a reminder, not a move X -> X; the board says how fresh it is and reloads itself
unless asked not to."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from app.db.tables import poll_runs, registration_events
from app.db.webreads import WebReads
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.site import create_app
from app.web.ui import WebUI
from tests.webseed import NOW, STUCK_AFTER, T0, seed

MIN = timedelta(minutes=1)


def _app(engine: sa.Engine) -> Flask:
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), Access(mode="none"), clock=lambda: NOW)
    return create_app(health, Metrics(health), ui)


def _poll(i: int, at: object, outcome: str = "ok", events: int = 0) -> dict[str, object]:
    return {"id": i, "started_at": at, "finished_at": at, "outcome": outcome, "events": events}


@pytest.fixture
def polled(engine: sa.Engine) -> sa.Engine:
    """The seed (poll 1 ok at T0, poll 2 failed a day ago), then 212 quiet polls, one with an
    event, 3 quiet ones, the last 40 s ago; and a stuck reminder of alpha/3000."""
    seed(engine)
    start = NOW - 300 * MIN
    rows = [_poll(10 + i, start + i * MIN) for i in range(212)]
    rows.append(_poll(300, start + 212 * MIN, events=2))
    rows += [_poll(301 + i, start + (213 + i) * MIN) for i in range(3)]
    rows.append(_poll(400, NOW - timedelta(seconds=40)))
    reminder = {
        "poll_id": 400,
        "event": "stuck",
        "client_id": "alpha",
        "client_name": "Alpha Lending",
        "provider_id": 3000,
        "provider_name": "Chase",
        "country": "US",
        "from_status": "PENDING_APPROVAL",
        "to_status": "PENDING_APPROVAL",
        "requested_on": T0,
        "observed_at": NOW - timedelta(seconds=40),
    }
    with engine.begin() as conn:
        conn.execute(poll_runs.insert(), rows)
        conn.execute(registration_events.insert(), reminder)
    return engine


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_activity_leads_with_problems_and_folds_quiet_polls(polled: sa.Engine) -> None:
    page = _app(polled).test_client().get("/activity").get_data(as_text=True)
    order = [page.index(h) for h in ("notices</h2>", "failed</h2>", "events</h2>", "Polls</h2>")]
    assert order == sorted(order)
    text = _text(page)
    # Newest first: the last poll (40 s ago) and the 3 before it, the one with events, the 212.
    assert text.count("quiet poll") == 3
    assert "4 quiet polls from 2026-10-11 07:33 UTC to 2026-10-11 08:59 UTC" in text
    assert "212 quiet polls from 2026-10-11 04:00 UTC to 2026-10-11 07:31 UTC" in text
    assert "1 quiet poll from 2026-09-01 09:00 UTC to 2026-09-01 09:00 UTC" in text
    assert page.count('class="outcome-ok"') == 1  # the one with events stays a row
    assert page.count('class="outcome-failed"') == 1


def test_a_stuck_reminder_is_drawn_as_one(polled: sa.Engine) -> None:
    web = _app(polled).test_client()
    for path in ("/activity", "/r/alpha/3000"):
        text = _text(web.get(path).get_data(as_text=True))
        assert "stuck reminder" in text
        assert "still PENDING_APPROVAL" in text
        assert "PENDING_APPROVAL → PENDING_APPROVAL" not in text


def test_the_board_says_when_it_polled_and_reloads_unless_asked_not_to(
    polled: sa.Engine,
) -> None:
    web = _app(polled).test_client()
    answer = web.get("/?provider=chase")
    page = answer.get_data(as_text=True)
    assert "Polled <strong>40 s ago</strong>" in page
    assert answer.headers["Refresh"] == "60"  # reloads itself, no script
    assert 'href="?provider=chase&amp;refresh=0">stop reloading' in page
    stopped = web.get("/?provider=chase&refresh=0")
    still = stopped.get_data(as_text=True)
    assert "Refresh" not in stopped.headers
    assert '<input type="hidden" name="refresh" value="0">' in still  # the filters keep it
    bad = web.get("/?refresh=yes")
    assert bad.status_code == 400
    assert b"refresh" in bad.data


def test_the_providers_export_names_its_columns_like_report(polled: sa.Engine) -> None:
    from app.cli.report import CSV_COLUMNS

    web = _app(polled).test_client()
    header = web.get("/providers?format=csv").get_data(as_text=True).splitlines()[0].split(",")
    measures = [name for name in header if not name.startswith("figures_")]
    assert measures == [name for name in CSV_COLUMNS if name in measures]  # report's order
    assert {"measure", "median_seconds", "p90_seconds"} <= set(measures)
    assert "status" not in header
    rows = web.get("/providers?format=json").get_json()
    assert {r["measure"] for r in rows} >= {"to ACTIVE", "in PENDING_APPROVAL"}
    seconds = [r[k] for r in rows for k in ("median_seconds", "p90_seconds") if r[k] is not None]
    assert seconds
    assert all(isinstance(s, int) for s in seconds)  # whole seconds, as the CLI
