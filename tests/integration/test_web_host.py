"""DNS rebinding under WEB_AUTH=none: a page on another site whose name is re-pointed at
127.0.0.1 reaches the loopback server with its own name in Host; only loopback names (and
WEB_ALLOWED_HOSTS) see data. The probes stay open whatever the Host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app.config.settings import load_settings
from app.db import engine as db
from app.db.webreads import WebReads
from app.errors import ConfigError
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.site import create_app
from app.web.ui import WebUI, access_for
from tests.webseed import NOW, STUCK_AFTER, seed

PAGES = ("/", "/r/alpha/2000", "/providers", "/activity", "/?format=json", "/activity?format=csv")
FOREIGN = (
    "attacker.example:8080",
    "attacker.example",
    "127.0.0.1.attacker.example",
    "localhost.attacker.example:8080",
    "10.0.0.5:8080",
)
LOOPBACK = (
    "127.0.0.1",
    "127.0.0.1:8080",
    "localhost",
    "localhost:8080",
    "LOCALHOST:8080",
    "[::1]",
    "[::1]:8080",
)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(sqlite_url)
    db.migrate(engine)
    seed(engine)
    yield engine
    engine.dispose()


def _client(engine: sa.Engine, access: Access) -> FlaskClient:
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), access, clock=lambda: NOW)
    return create_app(health, Metrics(health), ui).test_client()


@pytest.mark.parametrize("host", FOREIGN)
@pytest.mark.parametrize("path", PAGES)
def test_none_refuses_a_foreign_host_and_shows_no_data(
    engine: sa.Engine, path: str, host: str
) -> None:
    answer = _client(engine, Access(mode="none")).get(path, headers={"Host": host})
    assert answer.status_code == 403
    assert b"alpha" not in answer.data.lower()
    assert b"unexpected Host" in answer.data


@pytest.mark.parametrize("host", LOOPBACK)
def test_none_answers_loopback_hosts_with_or_without_port(engine: sa.Engine, host: str) -> None:
    answer = _client(engine, Access(mode="none")).get("/?format=json", headers={"Host": host})
    assert answer.status_code == 200
    assert "alpha" in {row["client_id"] for row in answer.get_json()}


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_stay_open_whatever_the_host(engine: sa.Engine, path: str) -> None:
    answer = _client(engine, Access(mode="none")).get(path, headers={"Host": "attacker.example"})
    assert answer.status_code in (200, 503)  # 503: no poll yet (honest, not refused)
    assert b"unexpected Host" not in answer.data


def test_web_allowed_hosts_adds_names(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_AUTH", "none")
    monkeypatch.setenv("WEB_ALLOWED_HOSTS", " Tunnel.Internal , flinkswatch.local.")
    web = _client(engine, access_for(load_settings(_env_file=None)))
    assert web.get("/", headers={"Host": "tunnel.internal:8080"}).status_code == 200
    assert web.get("/", headers={"Host": "flinkswatch.local"}).status_code == 200
    assert web.get("/", headers={"Host": "attacker.example"}).status_code == 403


@pytest.mark.parametrize("value", ["*", "evil.example:8080", "a b"])
def test_web_allowed_hosts_takes_names_only(value: str) -> None:
    with pytest.raises(ConfigError, match=r"WEB_ALLOWED_HOSTS: .* is not a host name"):
        Access(mode="none", allowed_hosts=(value,)).check("127.0.0.1")


def test_basic_and_proxy_do_not_look_at_host(engine: sa.Engine) -> None:
    web = _client(engine, Access(mode="proxy"))
    headers = {"Host": "proxy.example.com", "X-Forwarded-User": "ana@example.com"}
    assert web.get("/", headers=headers).status_code == 200


def test_proxy_with_allowed_hosts_refuses_other_names(engine: sa.Engine) -> None:
    access = Access(mode="proxy", allowed_hosts=("watch.example.com",))
    web = _client(engine, access)
    user = {"X-Forwarded-User": "ana@example.com"}
    assert web.get("/", headers={"Host": "watch.example.com", **user}).status_code == 200
    assert web.get("/", headers={"Host": "127.0.0.1:8080", **user}).status_code == 200
    refused = web.get("/?format=json", headers={"Host": "attacker.example:8080", **user})
    assert refused.status_code == 403
    assert b"alpha" not in refused.data.lower()
