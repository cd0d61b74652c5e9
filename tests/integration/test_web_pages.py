"""The web page (SPEC 10) through Flask's test client over a seeded database: WEB_AUTH on every
page, the exports against the database, hostile upstream text shown as text."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app.db import engine as db
from app.db import queries
from app.db.webreads import WebReads
from app.errors import ConfigError
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.site import create_app
from app.web.ui import WebUI
from tests.webseed import HOSTILE, NOW, STUCK_AFTER, seed

PAGES = ("/", "/r/alpha/2000", "/providers", "/activity", "/?format=json", "/activity?format=csv")
OPEN = ("/healthz", "/readyz", "/metrics")
BASIC = Access(mode="basic", username="ops", password="s3cret")


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(sqlite_url)
    db.migrate(engine)
    seed(engine)
    yield engine
    engine.dispose()


def client_for(engine: sa.Engine, access: Access) -> FlaskClient:
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), access, clock=lambda: NOW)
    return create_app(health, Metrics(health), ui).test_client()


@pytest.fixture
def client(engine: sa.Engine) -> FlaskClient:
    return client_for(engine, Access(mode="none"))


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize("path", PAGES)
def test_basic_refuses_every_data_page_without_the_right_credentials(
    engine: sa.Engine, path: str
) -> None:
    web = client_for(engine, BASIC)
    for headers in ({}, basic("ops", "wrong"), basic("nobody", "s3cret"), {"Authorization": "x"}):
        answer = web.get(path, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert b"Alpha" not in answer.data
    assert web.get(path, headers=basic("ops", "s3cret")).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_proxy_refuses_every_data_page_without_the_header(engine: sa.Engine, path: str) -> None:
    web = client_for(engine, Access(mode="proxy", proxy_header="X-Forwarded-User"))
    assert web.get(path).status_code == 403
    assert web.get(path, headers={"X-Forwarded-User": " "}).status_code == 403
    assert web.get(path, headers={"X-Forwarded-User": "ana@example.com"}).status_code == 200


@pytest.mark.parametrize("mode", ["basic", "proxy"])
def test_health_and_metrics_stay_open(engine: sa.Engine, mode: str) -> None:
    web = client_for(engine, Access(mode=mode, username="ops", password="s3cret"))
    assert web.get("/healthz").status_code == 503  # no poll yet: open, and honest
    assert web.get("/readyz").status_code == 503
    assert web.get("/metrics").status_code == 200


def test_pages_are_read_only(client: FlaskClient) -> None:
    for path in ("/", "/providers", "/activity", "/healthz"):
        assert client.post(path).status_code == 405


def test_security_headers_forbid_inline_script(client: FlaskClient) -> None:
    answer = client.get("/")
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "<script" not in answer.get_data(as_text=True).replace("&lt;script", "")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("access", "host", "message"),
    [
        (Access(mode="none"), "0.0.0.0", "WEB_AUTH=none is allowed only on a loopback"),  # noqa: S104
        (Access(mode="none"), "10.0.0.5", "WEB_AUTH=none is allowed only on a loopback"),
        (Access(mode="basic"), "127.0.0.1", "WEB_AUTH=basic needs WEB_USERNAME and WEB_PASSWORD"),
    ],
)
def test_unsafe_access_is_refused(access: Access, host: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        access.check(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_none_is_allowed_on_loopback(host: str) -> None:
    Access(mode="none").check(host)


def test_board_json_export_is_status_json_filtered(client: FlaskClient, engine: sa.Engine) -> None:
    everything = client.get("/?format=json").get_json()
    rows = queries.current(engine, queries.Filters())
    assert [(r["client_id"], r["provider_id"]) for r in everything] == [
        (r["client_id"], r["provider_id"]) for r in rows
    ]
    # the fields of `flinkswatch status --format json`, SPEC 11's included
    ages = {"waiting_seconds", "stuck", "late", "expected_active_by"}
    assert set(everything[0]) == set(rows[0]) | ages
    stuck = client.get("/?format=json&stuck=1").get_json()
    assert [(r["client_id"], r["provider_id"]) for r in stuck] == [("alpha", 3000)]
    assert [(r["client_id"], r["provider_id"]) for r in everything if r["stuck"]] == [
        ("alpha", 3000)
    ]  # the filter and the field agree
    ca = client.get("/?format=json&country=ca&status=ACTIVE").get_json()
    assert {(r["client_id"], r["provider_id"]) for r in ca} == {
        ("alpha", 2000),
        ("beta", 2000),
        ("beta", 4000),
    }
    searched = client.get("/?format=json&q=desj").get_json()
    assert {r["client_id"] for r in searched} == {"alpha", "beta"}
    assert client.get("/?format=json&client=beta&provider=nbc").get_json()[0]["client_id"] == "beta"


def test_board_csv_export_matches_the_database(client: FlaskClient, engine: sa.Engine) -> None:
    answer = client.get("/?format=csv&provider=Chase")
    assert answer.headers["Content-Type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    rows = queries.current(engine, queries.Filters(provider="Chase"))
    assert [(r["client_id"], r["registration_status"], r["client_name"]) for r in parsed] == [
        (r["client_id"], r["registration_status"], r["client_name"]) for r in rows
    ]
    assert HOSTILE in {r["client_name"] for r in parsed}  # exported as it is, not escaped


def test_timeline_shows_every_event_and_the_slack_thread(client: FlaskClient) -> None:
    page = client.get("/r/alpha/2000").get_data(as_text=True)
    assert page.count("<li><time>") == 3
    assert "https://slack.com/archives/C0123/p1700000000000100" in page
    assert "7 d 0 h" in page  # PENDING_ACTIVATION from day 3 to day 10
    events = client.get("/r/alpha/2000?format=json").get_json()
    assert [e["to_status"] for e in events] == ["PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE"]
    assert client.get("/r/nobody/1").status_code == 404


def test_providers_and_activity_pages(client: FlaskClient) -> None:
    providers = client.get("/providers").get_data(as_text=True)
    assert "<svg" in providers
    assert "Desjardins" in providers
    table = client.get("/providers?format=json").get_json()
    nbc = next(r for r in table if r["provider_name"] == "NBC" and r["measure"] == "to ACTIVE")
    assert nbc["count"] == 1
    assert "censored" in nbc  # the still waiting count (SPEC 11)
    # the Kaplan-Meier step lines of the busiest providers, NBC's among them
    assert '<polyline points="0.0,0.0 ' in providers
    assert "NBC: 1 activated" in providers
    # The weekly chart's counts and weeks on its axes, and what it shows in words (issue 24).
    assert '<text x="8.0%" y="132.0" class="tick" text-anchor="end">0</text>' in providers
    assert 'class="tick" text-anchor="end">5 Oct</text>' in providers  # the latest week
    assert '<desc id="weekly-desc">26 weeks, each from a Monday: ' in providers
    activity = client.get("/activity").get_data(as_text=True)
    assert "watcher_blind" in activity
    assert "SMTP 451" in activity
    polls = client.get("/activity?list=polls&format=json").get_json()
    assert [p["outcome"] for p in polls] == ["failed", "ok"]
    assert client.get("/activity?list=nothing&format=json").status_code == 400
    assert client.get("/?format=xml").status_code == 400


@pytest.mark.parametrize("path", ["/", "/activity", "/r/evil/3000", "/providers"])
def test_hostile_text_is_shown_as_text(client: FlaskClient, path: str) -> None:
    page = client.get(path).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "<!channel>" not in page
    if path != "/providers":
        assert (
            "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; "
            "&#34;q&#34; &#39;x&#39; &amp; co" in page
        )


def test_json_export_is_a_list_of_objects(client: FlaskClient) -> None:
    body = json.loads(client.get("/activity?format=json").data)
    assert isinstance(body, list)
    assert all(isinstance(item, dict) for item in body)
