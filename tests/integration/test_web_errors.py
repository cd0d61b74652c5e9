"""Issue 24: the pages' errors as their reader asked: HTML for a browser, JSON when asked for
JSON (Accept or ?format=json), and what scripts and probes always had otherwise."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app.db.webreads import WebReads
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.site import create_app
from app.web.ui import WebUI
from tests.webseed import NOW, STUCK_AFTER, seed

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def web(engine: sa.Engine) -> FlaskClient:
    seed(engine)
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), Access(mode="none"), clock=lambda: NOW)
    return create_app(health, Metrics(health), ui).test_client()


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("/?format=xml", 400, "format: one of csv, json"),
        ("/r/nobody/1", 404, "Not found"),
        ("/no-such-page", 404, "Not found"),
    ],
)
def test_a_browser_gets_an_html_page(web: FlaskClient, path: str, code: int, words: str) -> None:
    answer = web.get(path, headers=BROWSER)
    assert answer.status_code == code
    assert answer.content_type.startswith("text/html")
    page = answer.get_data(as_text=True)
    assert words in page
    assert 'href="/"' in page  # back to the board
    assert "Content-Security-Policy" in answer.headers


def test_a_post_from_a_browser_is_an_html_405_with_allow(web: FlaskClient) -> None:
    answer = web.post("/activity", headers=BROWSER)
    assert answer.status_code == 405
    assert answer.content_type.startswith("text/html")
    assert answer.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("path", "headers"), [("/r/nobody/1", JSON), ("/r/nobody/1?format=json", BROWSER)]
)
def test_json_when_json_is_asked(web: FlaskClient, path: str, headers: dict[str, str]) -> None:
    answer = web.get(path, headers=headers)
    assert answer.status_code == 404
    assert answer.get_json() == {"error": "not found"}


def test_a_bad_parameter_asked_as_json_is_json(web: FlaskClient) -> None:
    answer = web.get("/?sort=nope&format=json")
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "sort: one of waiting, provider, recipient, status"}


def test_scripts_and_probes_keep_their_answers(web: FlaskClient) -> None:
    assert web.get("/nope").get_json() == {"error": "not found"}  # curl's Accept: */*
    plain = web.get("/?page=x")
    assert plain.status_code == 400
    assert plain.content_type.startswith("text/plain")
    assert web.post("/healthz", headers=BROWSER).get_json() == {"error": "read-only: GET only"}
