"""CSV formula injection (OWASP): every web export in CSV writes a cell a spreadsheet would run
as a formula with a leading `'`; the JSON export keeps the text as it is."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from app.core.cells import csv_cell, csv_row
from app.db import engine as db
from app.db.tables import poll_runs, registration_events, registrations
from app.db.webreads import WebReads
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.site import create_app
from app.web.ui import WebUI
from tests.webseed import NOW, STUCK_AFTER, seed

EVIL = '=HYPERLINK("http://evil","x")'
CASES = [EVIL, "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tx", "\rx"]


@pytest.mark.parametrize("text", CASES)
def test_a_formula_gets_a_quote(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert list(csv_row([text, 1])) == ["'" + text, 1]


@pytest.mark.parametrize("value", ["Alpha Lending", "", None, -2, 1.5, "a=b", "x-1"])
def test_anything_else_is_left_alone(value: object) -> None:
    assert csv_cell(value) == value
    assert list(csv_row([value])) == [value]


@pytest.fixture
def client(sqlite_url: str) -> Iterator[FlaskClient]:
    engine = db.make_engine(sqlite_url)
    db.migrate(engine)
    seed(engine)
    with engine.begin() as conn:
        conn.execute(registrations.update().values(client_name=EVIL, provider_name=EVIL))
        conn.execute(registration_events.update().values(client_name=EVIL, provider_name=EVIL))
        conn.execute(poll_runs.update().values(error="-" + EVIL))
    ui = WebUI(WebReads(engine, STUCK_AFTER), Access(mode="none"), clock=lambda: NOW)
    health = Health(interval=60)
    yield create_app(health, Metrics(health), ui).test_client()
    engine.dispose()


def _rows(client: FlaskClient, path: str) -> list[dict[str, str]]:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))


@pytest.mark.parametrize(
    ("path", "column"),
    [
        ("/?format=csv", "client_name"),
        ("/?format=csv", "provider_name"),
        ("/activity?format=csv", "client_name"),
        ("/providers?format=csv", "provider_name"),
        ("/r/alpha/2000?format=csv", "client_name"),
    ],
)
def test_web_csv_exports_neutralise_formulas(client: FlaskClient, path: str, column: str) -> None:
    rows = _rows(client, path)
    assert rows, path
    assert {r[column] for r in rows} == {"'" + EVIL}


def test_polls_export_neutralises_a_formula_in_an_error(client: FlaskClient) -> None:
    rows = _rows(client, "/activity?format=csv&list=polls")
    assert {r["error"] for r in rows if r["error"]} == {"'-" + EVIL}


def test_json_exports_stay_verbatim(client: FlaskClient) -> None:
    body = json.loads(client.get("/?format=json").data)
    assert {r["client_name"] for r in body} == {EVIL}
