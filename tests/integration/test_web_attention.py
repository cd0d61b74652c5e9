"""The board's "needs attention" list (issue 24): stuck and unrecognised-status registrations of
the board's filters, longest waiting first (or by the `sort` asked), who acknowledged each, a
link to its timeline, bounded with "and N more"; the `status` filter ignores case."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from app.db import acks
from app.db.boardreads import BoardFilter
from app.db.tables import registrations
from app.db.webreads import WebReads
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.pages import ATTENTION_SHOWN
from app.web.site import create_app
from app.web.ui import WebUI
from tests.webseed import NOW, STUCK_AFTER, seed

D = timedelta(days=1)


def _add(engine: sa.Engine, rows: list[tuple[str, int, str, int, int]]) -> None:
    """(client_id, provider_id, status, days waiting since the request, days in status)."""
    with engine.begin() as conn:
        conn.execute(
            registrations.insert(),
            [
                {
                    "client_id": client,
                    "client_name": f"Name {client}",
                    "provider_id": provider,
                    "provider_name": f"Bank {provider}",
                    "country": "CA",
                    "registration_status": status,
                    "requested_on": NOW - waiting * D,
                    "first_seen_at": NOW - waiting * D,
                    "status_since": NOW - in_status * D,
                    "present": True,
                    "missing_polls": 0,
                }
                for client, provider, status, waiting, in_status in rows
            ],
        )


def _app(engine: sa.Engine) -> Flask:
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), Access(mode="none"), clock=lambda: NOW)
    return create_app(health, Metrics(health), ui)


def _listed(page: str) -> list[str]:
    """The timeline links of the needs-attention table, in its order."""
    section = page.split('<section class="attention"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<td><a href="/r/([^"]+)">', section)


@pytest.fixture
def mixed(engine: sa.Engine) -> sa.Engine:
    seed(engine)  # alpha/3000: stuck, waiting 43 days; evil/3000 PENDING_ACTIVATION 7 days: not
    _add(
        engine,
        [
            ("w90", 7001, "PENDING_APPROVAL", 90, 8),  # stuck, waiting longest
            ("w10", 7002, "PENDING_ACTIVATION", 10, 15),  # stuck
            ("odd", 7003, "SUSPENDED", 60, 1),  # unrecognised, not stuck
            ("new", 7004, "PENDING_APPROVAL", 200, 2),  # waiting long, neither
            ("done", 7005, "ACTIVE", 300, 300),  # neither
        ],
    )
    return engine


def test_the_list_holds_stuck_and_unrecognised_longest_waiting_first(mixed: sa.Engine) -> None:
    page = _app(mixed).test_client().get("/").get_data(as_text=True)
    assert _listed(page) == ["w90/7001", "odd/7003", "alpha/3000", "w10/7002"]
    assert page.index('class="attention"') < page.index('class="filters"')  # first on the page
    assert "status not recognised" in page
    assert "90 d 0 h" in page  # waiting: now - requested_on


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("provider", ["w90/7001", "w10/7002", "odd/7003", "alpha/3000"]),  # Bank 7001... Chase
        ("status", ["w10/7002", "w90/7001", "alpha/3000", "odd/7003"]),
        ("recipient", ["alpha/3000", "odd/7003", "w10/7002", "w90/7001"]),
    ],
)
def test_the_list_sorts_by_what_is_asked(mixed: sa.Engine, sort: str, expected: list[str]) -> None:
    page = _app(mixed).test_client().get(f"/?sort={sort}").get_data(as_text=True)
    assert _listed(page) == expected
    assert _app(mixed).test_client().get("/?sort=bogus").status_code == 400


def test_the_list_follows_the_filters_and_shows_who_took_it(mixed: sa.Engine) -> None:
    acks.take(mixed, acks.Request(key=("w90", 7001), by="Ana", note="calling"), NOW)
    web = _app(mixed).test_client()
    page = web.get("/").get_data(as_text=True)
    section = page.split('<section class="attention"', 1)[1].split("</section>", 1)[0]
    assert "Ana: calling" in section
    assert _listed(web.get("/?provider=bank 7003").get_data(as_text=True)) == ["odd/7003"]


def test_the_list_is_bounded_with_a_link_to_the_rest(engine: sa.Engine) -> None:
    extra = 7
    rows = [(f"c{i:03d}", 8000, "PENDING_APPROVAL", 100 + i, 30) for i in range(50 + extra)]
    _add(engine, rows)
    page = _app(engine).test_client().get("/").get_data(as_text=True)
    listed = _listed(page)
    assert len(listed) == ATTENTION_SHOWN
    assert listed[0] == f"c{50 + extra - 1:03d}/8000"  # the longest waiting
    assert f"and {extra} more" in page
    assert re.search(r'href="\?[^"]*stuck=1"', page)


def test_the_status_filter_ignores_case(mixed: sa.Engine) -> None:
    web = _app(mixed).test_client()
    upper = web.get("/?status=PENDING_APPROVAL&format=json").get_json()
    lower = web.get("/?status=pending_approval&format=json").get_json()
    assert upper
    assert lower == upper
    assert {row["registration_status"] for row in lower} == {"PENDING_APPROVAL"}


def test_a_late_one_needs_attention_by_its_banks_threshold(engine: sa.Engine) -> None:
    """Late (SPEC 11): waiting past its provider's LATE_AFTER quantile, though not stuck."""
    _add(engine, [("late-1", 900, "PENDING_ACTIVATION", 20, 1), ("fine-1", 900, "ACTIVE", 30, 1)])
    _add(engine, [("other-1", 901, "PENDING_ACTIVATION", 20, 1)])
    reads = WebReads(engine, {})  # no STUCK_AFTER: only lateness can list them
    listed = reads.attention(BoardFilter(), NOW, "waiting", 50, {900: 19 * D})
    assert [row["client_id"] for row in listed.rows] == ["late-1"]  # never the ACTIVE one
    assert reads.attention(BoardFilter(), NOW, "waiting", 50, {900: 21 * D}).rows == []
    assert reads.attention(BoardFilter(), NOW, "waiting", 50).rows == []


def test_the_boards_scan_counts_what_needs_attention(engine: sa.Engine) -> None:
    """The board's counts by status also count its needs-attention rows (one scan less at
    100,000 rows): the same number the list counts by itself, late ones included, under
    the filters; none counted, the list is not read."""
    late = [(f"late-{i}", 900, "PENDING_ACTIVATION", 20, 1) for i in range(4)]
    stuck = [(f"stuck-{i}", 901, "PENDING_APPROVAL", 30, 30) for i in range(3)]
    _add(engine, [*late, *stuck, ("fine-1", 900, "ACTIVE", 30, 1)])
    reads, thresholds = WebReads(engine, STUCK_AFTER), {900: 19 * D}
    for query in (BoardFilter(), BoardFilter(provider="bank 900"), BoardFilter(q="nobody")):
        board = reads.board(query, NOW, 1, 25, thresholds)
        alone = reads.attention(query, NOW, "waiting", 2, thresholds)
        assert board.flagged == alone.total
        told = reads.attention(query, NOW, "waiting", 2, thresholds, board.flagged)
        assert (told.rows, told.total) == (alone.rows, alone.total)
    everything = reads.board(BoardFilter(), NOW, 1, 25, thresholds).flagged
    assert everything is not None
    assert everything >= 7
    assert reads.board(BoardFilter(provider="bank 900"), NOW, 1, 25, thresholds).flagged == 4
    assert reads.attention(BoardFilter(), NOW, "waiting", 2, thresholds, 0).rows == []
