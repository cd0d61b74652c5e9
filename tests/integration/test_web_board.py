"""The board's SQL (issue 12, Speed) on both backends: filters, search, counts and pages give what
filtering the rows of `flinkswatch status` in Python gave (the board before, kept here as the
reference); the streamed export is the database's rows; /providers follows a new poll."""

from __future__ import annotations

import csv
import html
import io
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

import pytest
import sqlalchemy as sa
from flask import Flask

from app.db import queries
from app.db.boardreads import BoardFilter
from app.db.tables import poll_runs, registration_events, registrations
from app.db.webreads import WebReads
from app.web.access import Access
from app.web.figures import FiguresCache
from app.web.health import Health, Metrics
from app.web.site import create_app
from app.web.ui import WebUI
from tests.webseed import NOW, STUCK_AFTER, seed

Row = dict[str, object]
D = timedelta(days=1)
STATUSES = ("PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE", "SUSPENDED")
# Names with the LIKE wildcards and mixed case: the search must take them literally.
NAMES = ("Alpha Lending", "beta_credit", "Gamma 100% Bank", "DELTA", "Epsilon/Slash", "Zeta")
QUERIES = [
    {},
    {"status": "ACTIVE"},
    {"status": "NOPE"},
    {"country": "us"},
    {"country": "CA", "status": "PENDING_APPROVAL"},
    {"provider": "bank 7"},
    {"provider": "BANK 3", "stuck": "1"},
    {"client": "c-003"},
    {"client": "DELTA"},
    {"stuck": "1"},
    {"q": "bank 1"},
    {"q": "100%"},
    {"q": "_"},
    {"q": "a_c"},
    {"q": "ALPHA"},
    {"q": "slash", "stuck": "1"},
    {"q": "zz-nothing"},
]


def _fill(engine: sa.Engine, recipients: int = 60, providers: int = 14) -> None:
    """The web seed, and `recipients` x (some of) `providers` registrations at random."""
    seed(engine)
    rng = random.Random(12)
    rows = []
    for i in range(recipients):
        for p in rng.sample(range(providers), rng.randint(1, providers)):
            since = NOW - timedelta(
                days=rng.randint(0, 40),
                hours=rng.randint(0, 23),
                microseconds=rng.choice((0, 120_000, 5, 999_999)),  # exported as iso_z writes
            )
            rows.append(
                {
                    "client_id": f"c-{i:03d}" if i % 7 else f"c/{i:03d}",
                    "client_name": f"{NAMES[i % len(NAMES)]} {i}",
                    "provider_id": 5000 + p,
                    "provider_name": f"Bank {p}",
                    "country": rng.choice(("CA", "US", "ca")),
                    "registration_status": rng.choice(STATUSES),
                    "requested_on": since - timedelta(days=3),
                    "first_seen_at": since - timedelta(days=1),
                    "status_since": since,
                    "present": rng.random() > 0.05,
                    "missing_polls": 0,
                }
            )
    with engine.begin() as conn:
        conn.execute(registrations.insert(), rows)


def _reference(engine: sa.Engine, args: dict[str, str]) -> list[Row]:
    """The board's rows as the Python filtering before issue 12's Speed kept them."""
    rows = queries.current(
        engine,
        queries.Filters(status=args.get("status") or None, provider=args.get("provider") or None),
    )
    kept = []
    for row in rows:
        allowed = STUCK_AFTER.get(str(row["registration_status"]))
        since = row["status_since"]
        stuck = allowed is not None and isinstance(since, datetime) and NOW - since > allowed
        if args.get("country") and str(row["country"]).lower() != args["country"].lower():
            continue
        if args.get("client") and args["client"] not in (row["client_id"], row["client_name"]):
            continue
        if args.get("stuck") == "1" and not stuck:
            continue
        needle = args.get("q", "").casefold()
        fields = ("client_id", "client_name", "provider_name", "country")
        if needle and not any(needle in str(row[name]).casefold() for name in fields):
            continue
        kept.append(row)
    return kept


@pytest.fixture
def filled(engine: sa.Engine) -> sa.Engine:
    _fill(engine)
    return engine


def _app(engine: sa.Engine, *, background: bool = False) -> Flask:
    health = Health(interval=60)
    ui = WebUI(
        WebReads(engine, STUCK_AFTER), Access(mode="none"), clock=lambda: NOW, background=background
    )
    return create_app(health, Metrics(health), ui)


def _key(row: Row) -> tuple[object, ...]:
    return (row["client_id"], row["provider_id"], row["registration_status"], row["country"])


@pytest.mark.parametrize("args", QUERIES, ids=lambda a: "&".join(f"{k}={v}" for k, v in a.items()))
def test_filters_and_search_in_sql_keep_what_python_kept(
    filled: sa.Engine, args: dict[str, str]
) -> None:
    expected = _reference(filled, args)
    reads = WebReads(filled, STUCK_AFTER)
    web = _app(filled).test_client()
    exported = web.get("/", query_string={**args, "format": "json"}).get_json()
    assert [_key(r) for r in exported] == [_key(r) for r in expected]  # same rows, same order
    first = reads.board(_filter(args), NOW, 1, 10**6)
    assert first.counts == dict(
        sorted(Counter(str(r["registration_status"]) for r in expected).items())
    )
    assert first.recipients == len({r["client_id"] for r in expected})
    page = web.get("/", query_string=args).get_data(as_text=True)
    assert f"<strong>{len(expected)}</strong> registrations" in page


def _filter(args: dict[str, str]) -> BoardFilter:
    return BoardFilter(
        status=args.get("status", ""),
        country=args.get("country", ""),
        provider=args.get("provider", ""),
        client=args.get("client", ""),
        stuck=args.get("stuck") == "1",
        q=args.get("q", ""),
    )


@pytest.mark.parametrize("args", [{}, {"country": "ca"}, {"q": "bank 1"}])
def test_pages_hold_every_recipient_once_in_order(filled: sa.Engine, args: dict[str, str]) -> None:
    expected = _reference(filled, args)
    reads = WebReads(filled, STUCK_AFTER)
    seen: list[Row] = []
    page, pages = 1, None
    while pages is None or page <= pages:
        found = reads.board(_filter(args), NOW, page, 7)
        pages = max(1, -(-found.recipients // 7))
        assert found.page == page
        assert len({r["client_id"] for r in found.rows}) <= 7
        seen += found.rows
        page += 1
    assert sorted(map(_key, seen)) == sorted(map(_key, expected))
    order = list(dict.fromkeys(r["client_id"] for r in seen))
    assert order == list(dict.fromkeys(r["client_id"] for r in expected))  # by name, like status
    past = reads.board(_filter(args), NOW, pages + 5, 7)
    assert past.page == pages  # a page past the last shows the last
    assert past.rows == found.rows


def test_board_page_is_bounded_and_links_to_timelines(filled: sa.Engine) -> None:
    web = _app(filled).test_client()
    page = web.get("/").get_data(as_text=True)
    expected = _reference(filled, {})
    order = list(dict.fromkeys(str(r["client_id"]) for r in expected))  # recipients by name
    assert len(order) == 62  # the web seed's 2 and _fill's 60
    assert "Page 1 of 3 (25 recipients a page)" in page
    # Every registration of the page's 25 recipients links to its own timeline, no other.
    links = [
        (unquote(html.unescape(client)), int(provider))
        # The grid's and the list's links (both in the page, CSS shows one): the "needs
        # attention" section before them links to registrations of any page.
        for client, provider in re.findall(
            r'<a href="/r/([^"]+)/(\d+)">', page.partition("</section>")[2]
        )
    ]
    on_page = [
        (str(r["client_id"]), int(r["provider_id"]))
        for r in expected
        if r["client_id"] in order[:25]
    ]
    assert set(links) == set(on_page)
    slashed = next(link for link in links if "/" in link[0])  # a client id with a slash
    timeline = web.get(f"/r/{quote(slashed[0], safe='')}/{slashed[1]}")
    assert timeline.status_code == 200
    assert html.escape(slashed[0]) in timeline.get_data(as_text=True)
    assert web.get("/?page=999").status_code == 200
    assert web.get("/?page=x").status_code == 400  # not a number: refused, one line


def test_a_client_id_with_a_slash_has_its_timeline(filled: sa.Engine) -> None:
    key = {"client_id": "ops/team-1", "client_name": "Ops", "provider_id": 5001}
    common = key | {"provider_name": "Bank 1", "country": "CA", "requested_on": NOW}
    with filled.begin() as conn:
        conn.execute(
            poll_runs.insert(), {"id": 9, "started_at": NOW, "finished_at": NOW, "outcome": "ok"}
        )
        conn.execute(
            registration_events.insert(),
            common | {"poll_id": 9, "event": "added", "to_status": "ACTIVE", "observed_at": NOW},
        )
        conn.execute(
            registrations.insert(),
            common | {"registration_status": "ACTIVE", "first_seen_at": NOW, "status_since": NOW},
        )
    web = _app(filled).test_client()
    answer = web.get("/r/ops%2Fteam-1/5001")  # as the board links it
    assert answer.status_code == 200
    assert web.get("/r/ops/team-1/5001").status_code == 200  # and as typed
    assert "Ops · Bank 1" in answer.get_data(as_text=True)
    events = web.get("/r/ops/team-1/5001?format=json").get_json()
    assert [e["client_id"] for e in events] == ["ops/team-1"]
    board = web.get("/?client=ops/team-1").get_data(as_text=True)
    assert 'href="/r/ops%2Fteam-1/5001"' in board  # the board's cell leads there
    assert web.get("/r/ops/team-1/1").status_code == 404


def test_streamed_export_is_the_database_and_releases_its_connection(
    engine: sa.Engine,
) -> None:
    _fill(engine, recipients=120, providers=30)  # more rows than one fetch (BATCH)
    expected = queries.current(engine, queries.Filters())
    assert len(expected) > 1000
    web = _app(engine).test_client()
    answer = web.get("/?format=csv", buffered=False)
    assert answer.is_streamed
    body = b"".join(answer.iter_encoded()).decode()
    answer.close()
    parsed = list(csv.DictReader(io.StringIO(body)))
    assert [(r["client_id"], int(r["provider_id"]), r["status_since"]) for r in parsed] == [
        (r["client_id"], r["provider_id"], _iso(r["status_since"])) for r in expected
    ]
    as_json = web.get("/?format=json").get_json()
    assert [(r["client_id"], r["provider_id"], r["present"]) for r in as_json] == [
        (r["client_id"], r["provider_id"], r["present"]) for r in expected
    ]
    started = web.get("/?format=json", buffered=False)  # a client that goes away early
    next(iter(started.response))
    started.close()
    assert engine.pool.checkedout() == 0


def _iso(value: object) -> str:
    assert isinstance(value, datetime)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _moved(engine: sa.Engine) -> None:
    """What a poll records when alpha's Chase registration moves on: its event and state."""
    moved_at = NOW - timedelta(hours=1)
    with engine.begin() as conn:
        conn.execute(
            poll_runs.insert(),
            {"id": 3, "started_at": moved_at, "finished_at": moved_at, "outcome": "ok"},
        )
        conn.execute(
            registration_events.insert(),
            {"poll_id": 3, "event": "status_changed", "client_id": "alpha",
             "client_name": "Alpha Lending", "provider_id": 3000, "provider_name": "Chase",
             "country": "US",
             "from_status": "PENDING_APPROVAL", "to_status": "PENDING_ACTIVATION",
             "observed_at": moved_at, "requested_on": NOW - 43 * timedelta(days=1),
             "previous_status_since": NOW - 35 * timedelta(days=1)},
        )  # fmt: skip
        conn.execute(
            registrations.update()
            .where(registrations.c.client_id == "alpha", registrations.c.provider_id == 3000)
            .values(registration_status="PENDING_ACTIVATION", status_since=moved_at)
        )


def _chase_approval(rows: list[Row]) -> object:
    found = [
        r for r in rows if r["provider_name"] == "Chase" and r["measure"] == "in PENDING_APPROVAL"
    ]
    return found[0]["count"] if found else 0


@pytest.fixture
def seeded(engine: sa.Engine) -> sa.Engine:
    seed(engine)
    return engine


def test_provider_figures_follow_a_new_poll(seeded: sa.Engine) -> None:
    web = _app(seeded).test_client()
    assert _chase_approval(web.get("/providers?format=json").get_json()) == 0
    assert _chase_approval(web.get("/providers?format=json").get_json()) == 0  # from the cache
    _moved(seeded)
    assert _chase_approval(web.get("/providers?format=json").get_json()) == 1


def test_in_the_service_stale_figures_are_shown_while_new_ones_are_folded(
    seeded: sa.Engine,
) -> None:
    app = _app(seeded, background=True)
    cache: FiguresCache = app.extensions["flinkswatch.figures"]
    cache.wait()  # started with the app
    web = app.test_client()
    assert "being counted" not in web.get("/providers").get_data(as_text=True)
    _moved(seeded)
    assert "being counted" in web.get("/providers").get_data(as_text=True)  # the previous ones
    cache.wait()
    fresh = web.get("/providers").get_data(as_text=True)
    assert "being counted" not in fresh
    assert _chase_approval(web.get("/providers?format=json").get_json()) == 1


def test_seeded_providers_show_time_in_each_status(seeded: sa.Engine) -> None:
    rows = _app(seeded).test_client().get("/providers?format=json").get_json()
    stays = {
        (r["provider_name"], r["measure"]): r["count"] for r in rows if r["measure"] != "to ACTIVE"
    }
    # Stays that began at the baseline past PENDING_APPROVAL are not measured; one first seen
    # in PENDING_APPROVAL is, from its request (SPEC 11); stays still going count as censored
    # (count 0 here: none of them ended).
    assert stays == {
        ("NBC", "in PENDING_APPROVAL"): 1,
        ("NBC", "in PENDING_ACTIVATION"): 1,
        ("NBC", "in ACTIVE"): 0,
        ("Chase", "in PENDING_APPROVAL"): 0,
        ("Desjardins", "in PENDING_APPROVAL"): 2,
        ("Desjardins", "in PENDING_ACTIVATION"): 1,
        ("Desjardins", "in ACTIVE"): 0,
    }


def test_many_providers_page_the_table_and_cap_the_chart(sqlite_url: str) -> None:
    from app.db import engine as db

    engine = db.make_engine(sqlite_url)
    db.migrate(engine)
    seed(engine)
    moves = []
    for p in range(250):  # each provider: one registration added, then activated
        common = {
            "client_id": f"c{p}",
            "client_name": f"C {p}",
            "provider_id": 9000 + p,
            "provider_name": f"P {p:03d}",
            "country": "CA",
            "requested_on": NOW - 9 * D,
        }
        moves += [common | {"poll_id": 1, "event": "added", "to_status": "PENDING_APPROVAL",
                            "observed_at": NOW - 8 * D},
                  common | {"poll_id": 1, "event": "status_changed", "from_status":
                            "PENDING_APPROVAL", "to_status": "ACTIVE", "observed_at": NOW - D,
                            "previous_status_since": NOW - 8 * D}]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(registration_events.insert(), moves)
    web = _app(engine).test_client()
    page = web.get("/providers").get_data(as_text=True)
    # one group of rows per provider on this page
    assert page.count('<th colspan="5" scope="rowgroup">') == 100
    assert page.count("<g transform=") == 30  # the bars (the weekly chart draws no group)
    assert "Page 1 of 3 (253 providers)" in page
    assert "P 249" in web.get("/providers?page=3").get_data(as_text=True)
    assert len({r["provider_id"] for r in web.get("/providers?format=json").get_json()}) == 253
    engine.dispose()
