"""Hostile input to the web page (issue 22 items 8 and 10): every route and every parameter with
huge numbers, negatives, NUL and huge strings answers 400 with one short line or a page, never
a 500 nor an ERROR in the log; links carry a client_id as one percent-encoded segment that the
route takes back; bidi controls never reach the page; a recipient shows every name."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.db import engine as db
from app.db.tables import registration_events, registrations
from app.db.webreads import WebReads
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.server import serve
from app.web.site import create_app
from app.web.ui import WebUI
from tests.webseed import NOW, STUCK_AFTER, seed

HUGE_INT = "9" * 23
HUGE_TEXT = "x" * 70_000
# Values no parameter may hold: a 400 on every page, whatever the parameter.
NEVER = ("\x00", "a\x00b", HUGE_TEXT, "%\x00%")
# Values some parameters refuse, none may turn into a 500.
ODD = (HUGE_INT, "-" + HUGE_INT, "-1", "0", "1e9", "\u00b2", "\u202e1", "../../etc", "%", "_", " ")
# Each route's query parameters (those it reads; `zz` is one it does not).
QUERY = {
    "pages.board_page": ("page", "q", "status", "country", "provider", "client", "stuck", "format"),
    "pages.timeline_page": ("format",),
    "pages.timeline_by_query": ("client_id", "provider_id", "format"),
    "pages.providers_page": ("page", "format"),
    "pages.activity_page": ("format", "list"),
    "healthz": (),
    "readyz": (),
    "metrics_page": (),
    "static": (),
}
BASE = {
    "pages.board_page": "/",
    "pages.timeline_page": "/r/alpha/2000",
    "pages.timeline_by_query": "/r/",
    "pages.providers_page": "/providers",
    "pages.activity_page": "/activity",
    "healthz": "/healthz",
    "readyz": "/readyz",
    "metrics_page": "/metrics",
    "static": "/static/site.css",
}
ETC = "../../etc"
NAMES = {"twice": ("Acme Holdings", "ACME Holdings Inc."), ETC: ("Climber",), "..": ("Dots",)}
RLO_NAME = "Invoice \u202egnp.exe\u2066 x\u2069"


def add(engine: sa.Engine, client_id: str, name: str, provider_id: int) -> None:
    common = {"client_id": client_id, "client_name": name, "provider_id": provider_id}
    common |= {"provider_name": "Bank", "country": "CA", "requested_on": NOW}
    with engine.begin() as conn:
        conn.execute(
            registration_events.insert(),
            common | {"poll_id": 1, "event": "added", "to_status": "ACTIVE", "observed_at": NOW},
        )
        conn.execute(
            registrations.insert(),
            common | {"registration_status": "ACTIVE", "first_seen_at": NOW, "status_since": NOW},
        )


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    seed(engine)
    for client_id, names in NAMES.items():
        for i, name in enumerate(names):
            add(engine, client_id, name, 7000 + i)
    add(engine, "rlo", RLO_NAME, 7000)
    yield engine
    engine.dispose()


def make_app(engine: sa.Engine) -> Flask:
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), Access(mode="none"), clock=lambda: NOW)
    return create_app(health, Metrics(health), ui)


@pytest.fixture
def web(engine: sa.Engine) -> FlaskClient:
    return make_app(engine).test_client()


def assert_refused(answer: TestResponse, name: str) -> None:
    assert answer.status_code == 400, name
    text = answer.get_data(as_text=True)
    assert text.startswith(f"{name}: "), text
    assert text.count("\n") == 1, text  # one line
    assert len(text) < 100, text


def test_every_route_is_probed(engine: sa.Engine) -> None:
    endpoints = {rule.endpoint for rule in make_app(engine).url_map.iter_rules()}
    assert endpoints == set(QUERY) == set(BASE)


@pytest.mark.parametrize("endpoint", sorted(QUERY))
def test_hostile_query_values_are_refused_in_one_line_never_a_500(
    web: FlaskClient, endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    page = endpoint.startswith("pages.")
    for name in (*QUERY[endpoint], "zz"):
        for value in NEVER + ODD:
            with web.get(BASE[endpoint], query_string={name: value}) as answer:
                assert answer.status_code in (200, 400, 404, 503), (name, value)
                if page and value in NEVER:
                    assert_refused(answer, name)
                if value in NEVER:
                    assert HUGE_TEXT not in answer.get_data(as_text=True)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        (f"page={HUGE_INT}", "page"),
        ("page=-3", "page"),
        ("page=0", "page"),
        ("page=x", "page"),
        (f"q={HUGE_TEXT}", "q"),
        ("q=%00", "q"),  # SQLite cut the LIKE pattern at the NUL: every row matched
        ("q=a%00b", "q"),
        ("stuck=yes", "stuck"),
        ("format=xml", "format"),
        (f"{'k' * 300}=1", "k" * 40),
        ("a%0Ab%00=1", "a?b?"),  # the name shown on one line
        ("&".join(f"p{i}=1" for i in range(60)), "query"),
    ],
)
def test_the_board_refuses_with_the_reason(
    web: FlaskClient, query: str, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert_refused(web.get(f"/?{query}"), name)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_providers_page_and_activity_refuse_with_the_reason(web: FlaskClient) -> None:
    assert_refused(web.get(f"/providers?page={HUGE_INT}"), "page")
    assert_refused(web.get("/activity?format=csv&list=secrets"), "list")
    assert web.get("/providers?page=99999").status_code == 200  # past the last: the last


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/r/alpha/{HUGE_INT}", 400),  # OverflowError into SQLite before
        (f"/r/alpha/{2**63}", 400),
        (f"/r/alpha/{2**63 - 1}", 404),
        ("/r/alpha/-1", 404),
        ("/r/alpha/%00", 404),
        ("/r/%00/2000", 400),
        (f"/r/{'c' * 129}/2000", 400),
        (f"/r/{'c' * 128}/2000", 404),
        (f"/r/{quote(HUGE_TEXT)}/2000", 400),
        ("/r/?client_id=alpha", 400),
        (f"/r/?client_id=alpha&provider_id={HUGE_INT}", 400),
        ("/r/?client_id=alpha&provider_id=2000", 200),
        ("/?q=%FF%FE%ZZ", 200),  # not UTF-8, not percent-encoding: searched as read
        ("/r/%FF/2000", 404),
        ("/static/%00", 404),
        ("/static/..%2F..%2Fsite.py", 404),
    ],
)
def test_path_parameters_are_bounded(
    web: FlaskClient, path: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    answer = web.get(path)
    assert answer.status_code == status, answer.get_data(as_text=True)[:200]
    if status == 400:
        assert len(answer.get_data(as_text=True)) < 100
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_climbing_client_id_is_linked_as_one_segment_and_found_again(web: FlaskClient) -> None:
    board = web.get("/?client=../../etc").get_data(as_text=True)
    assert 'href="/r/..%2F..%2Fetc/7000"' in board
    assert "/r/../" not in board
    answer = web.get("/r/..%2F..%2Fetc/7000")
    assert answer.status_code == 200
    assert "Climber" in answer.get_data(as_text=True)
    activity = web.get("/activity").get_data(as_text=True)
    assert 'href="/r/..%2F..%2Fetc/7000"' in activity
    assert "/r/../" not in activity


def test_a_dot_dot_client_id_is_linked_by_query(web: FlaskClient) -> None:
    board = web.get("/?client=..").get_data(as_text=True)
    assert 'href="/r/?client_id=..&amp;provider_id=7000"' in board
    answer = web.get("/r/?client_id=..&provider_id=7000")
    assert answer.status_code == 200
    assert "Dots" in answer.get_data(as_text=True)


def test_the_slack_thread_link_encodes_its_segments(engine: sa.Engine, web: FlaskClient) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE slack_threads SET slack_channel = '../C1/x?y'")
    page = web.get("/r/alpha/2000").get_data(as_text=True)
    assert "https://slack.com/archives/..%2FC1%2Fx%3Fy/p1700000000000100" in page


@pytest.mark.parametrize("path", ["/", "/?q=Invoice", "/r/rlo/7000", "/activity", "/providers"])
def test_bidi_controls_never_reach_the_page(web: FlaskClient, path: str) -> None:
    page = web.get(path).get_data(as_text=True)
    assert not {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))} & set(page)
    if path != "/providers":
        assert "Invoice gnp.exe x" in page


def test_bidi_controls_in_the_search_are_not_echoed(web: FlaskClient) -> None:
    page = web.get("/", query_string={"q": "\u202eexe"}).get_data(as_text=True)
    assert "\u202e" not in page


def test_a_recipient_with_two_names_shows_both(web: FlaskClient) -> None:
    page = web.get("/?client=twice").get_data(as_text=True)
    assert "ACME Holdings Inc. / Acme Holdings" in page  # in the board's order of names


def test_through_waitress_the_refusals_and_the_encoded_links_hold(engine: sa.Engine) -> None:
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), Access(mode="none"), clock=lambda: NOW)
    server = serve("127.0.0.1", 0, health, Metrics(health), ui)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for path in (f"/?page={HUGE_INT}", f"/r/dc-001/{HUGE_INT}", f"/?q={HUGE_TEXT}", "/?q=%00"):
            status, body = get(base + path)
            assert status == 400, path
            assert len(body) < 100
        status, body = get(base + "/r/..%2F..%2Fetc/7000")
        assert status == 200
        assert "Climber" in body
    finally:
        server.shutdown()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
