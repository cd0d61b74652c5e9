"""Nobody let in: secrets stay in memory (never in the database, logs or errors), TLS is always
verified (a custom CA through FLINKS_CA_BUNDLE), `history` filters are data, and the HTTP server
shows health and counters only."""

from __future__ import annotations

import json
import random
import shutil
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import stamina
from pydantic import SecretStr

from app.config.settings import SECRET_FIELDS, Settings
from app.db import engine as db
from app.demo.simulator import FlinksSimulator
from app.flinks.client import FlinksClient, FlinksUnavailable
from tests.ci import skip_or_fail
from tests.fakes.receiver import Answer, Receiver
from tests.fakes.slack_server import FakeSlack, Scripted
from tests.fakes.smtp_server import FakeSMTP, free_port
from tests.faults.harness import FLINKSWATCH, Launcher, service_env, wait_until
from tests.faults.test_outages import move
from tests.faults.upstream import seed_rows

pytestmark = pytest.mark.faults

CLIENT_SECRET = "fault-secret-value"
SLACK_TOKEN = "xoxb-security-token-4f9a"
SMTP_PASSWORD = "smtp-pass-7c1e"
APPRISE_PASS, APPRISE_PATH = "apprise-pass-51d0", "apprise-token-9e2c"
HOOK_PATH, HOOK_SECRET = "hook-token-33ab", "a-webhook-shared-secret-6d1f"


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLINKSWATCH, *args],
        env={"HOME": str(cwd), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def dump(url: str) -> str:
    """Every value of every table, as text."""
    engine = db.make_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    try:
        with db.reading(engine) as conn:
            return "\n".join(
                repr(tuple(row)) for t in meta.sorted_tables for row in conn.execute(t.select())
            )
    finally:
        engine.dispose()


def test_settings_keep_every_secret_in_a_secretstr() -> None:
    settings = Settings(
        flinks_client_id=SecretStr("id-1234"),
        flinks_client_secret=SecretStr(CLIENT_SECRET),
        slack_bot_token=SecretStr(SLACK_TOKEN),
        smtp_password=SecretStr(SMTP_PASSWORD),
        database_url=SecretStr("postgresql://u:db-pass-9d2b@h/db"),
    )
    for name in SECRET_FIELDS:
        assert "SecretStr" in str(Settings.model_fields[name].annotation), name
    text = repr(settings) + str(settings.model_dump())
    for value in (CLIENT_SECRET, SLACK_TOKEN, SMTP_PASSWORD, "db-pass-9d2b"):
        assert value not in text
    assert not [f for f in Settings.model_fields if "insecure" in f or "verify" in f], (
        "no setting turns TLS verification off"
    )


# ---- secrets never in the database, the logs or the output ------------------------------------
def test_full_run_with_every_channel_leaves_no_secret_in_the_database_or_logs(
    db_url: str, tmp_path: Path
) -> None:
    with (
        FlinksSimulator("fault-client", CLIENT_SECRET, rows=seed_rows(4, _rng())) as sim,
        FakeSlack(token=SLACK_TOKEN) as slack,
        FakeSMTP(auth=("mailer", SMTP_PASSWORD)) as smtp,
        Receiver() as apprise_in,
        Receiver() as hook_in,
    ):
        env = service_env(
            db_url,
            sim.base_url,
            {
                "LOG_LEVEL": "DEBUG",
                "SLACK_BOT_TOKEN": SLACK_TOKEN,
                "SLACK_CHANNEL": "C0SEC",
                "SLACK_API_URL": slack.api_url,
                "SLACK_WEBHOOK_URL": slack.webhook_url,
                "SMTP_HOST": smtp.host,
                "SMTP_PORT": str(smtp.port),
                "SMTP_SECURITY": "none",
                "SMTP_USERNAME": "mailer",
                "SMTP_PASSWORD": SMTP_PASSWORD,
                "EMAIL_FROM": "flinkswatch@example.com",
                "EMAIL_TO": "ops@example.com",
                "APPRISE_URLS": f"json://bot:{APPRISE_PASS}@{apprise_in.host}/{APPRISE_PATH}",
                "WEBHOOK_URL": hook_in.url(f"/in/{HOOK_PATH}"),
                "WEBHOOK_SECRET": HOOK_SECRET,
            },
        )
        secrets = [CLIENT_SECRET, SLACK_TOKEN, SMTP_PASSWORD, slack.webhook_url.rsplit("/", 1)[1]]
        secrets += [APPRISE_PASS, APPRISE_PATH, HOOK_PATH, HOOK_SECRET]
        password = sa.make_url(db_url).password
        if password and password != sa.make_url(db_url).username and len(password) >= 8:
            secrets.append(str(password))  # the CI password equals its user name: not checkable
        outputs = [run(env, tmp_path, "poll")]
        move(sim, 0)
        # Failures whose text echoes a secret back: each must be redacted before it is stored.
        slack.enqueue(Scripted(500, f"internal error for token {SLACK_TOKEN}"))
        slack.enqueue(Scripted(404, f"no_service {slack.webhook_url}"))
        smtp.reply_to_next_data(f"451 4.3.0 try later, {SMTP_PASSWORD} is busy")
        apprise_in.then(Answer(500))
        hook_in.then(Answer(500))
        outputs.append(run(env, tmp_path, "poll"))
        sim.revoke_tokens()
        echo = json.dumps({"error": "invalid_client", "error_description": CLIENT_SECRET})
        sim.fail_next(1, 400, echo.encode(), path="token")
        outputs.append(run(env, tmp_path, "poll"))
        outputs.append(run(env, tmp_path, "poll"))  # the backlog goes out
        outputs.append(run(env, tmp_path, "history", "--format", "json"))
        outputs.append(run(env, tmp_path, "status", "--format", "csv"))
    # The second poll's deliveries failed (scripted above): recorded, degraded, exit 3.
    assert [o.returncode for o in outputs] == [0, 3, 1, 0, 0, 0], outputs[2].stderr
    stored = dump(db_url)
    assert "invalid_client" in stored, "the failures were recorded (so the check means something)"
    assert "json://127.0.0.1" in stored, "the Apprise failure was recorded"
    assert "webhook http://127.0.0.1 answered HTTP 500" in stored
    assert len(apprise_in.accepted) >= 1
    assert len(hook_in.accepted) >= 1
    for secret in secrets:
        assert secret not in stored, "a secret reached the database"
        for out in outputs:
            assert secret not in out.stdout + out.stderr, "a secret reached the output"


def _rng() -> random.Random:
    return random.Random(3)


# ---- TLS: verified always; a private CA through FLINKS_CA_BUNDLE ------------------------------
@pytest.fixture
def https_flinks(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A minimal Flinks over HTTPS with a self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        skip_or_fail("openssl CLI not found: cannot make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
    ]
    subprocess.run(
        ["openssl", *request, "-keyout", str(key), "-out", str(cert), *_SAN],
        check=True,
        capture_output=True,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TinyFlinks)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


_SAN = ("-addext", "subjectAltName=IP:127.0.0.1")


class _TinyFlinks(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send({"access_token": "tls-token", "token_type": "Bearer", "expires_in": 299})

    def do_GET(self) -> None:
        self._send(seed_rows(2, _rng()))

    def _send(self, data: object) -> None:
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_self_signed_flinks_is_refused_without_its_ca(https_flinks: tuple[str, Path]) -> None:
    base, _cert = https_flinks
    client = FlinksClient(base + "/api/v1/recipients/providers/requests", base + "/t", "i", "s")
    with stamina.set_testing(True, attempts=1), client, pytest.raises(FlinksUnavailable) as exc:
        client.fetch()
    assert "CERTIFICATE_VERIFY_FAILED" in str(exc.value)


def test_flinks_ca_bundle_trusts_a_private_ca(
    https_flinks: tuple[str, Path], sqlite_url: str, tmp_path: Path
) -> None:
    base, cert = https_flinks
    env = service_env(sqlite_url, base, {"FLINKS_CA_BUNDLE": str(cert)})
    done = run(env, tmp_path, "poll")
    assert done.returncode == 0, done.stderr
    missing = run({**env, "FLINKS_CA_BUNDLE": str(tmp_path / "nope.pem")}, tmp_path, "poll")
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1
    assert "FLINKS_CA_BUNDLE" in missing.stderr


# ---- history filters are data, not SQL ---------------------------------------------------------
def test_history_filters_are_not_sql(db_url: str, tmp_path: Path) -> None:
    with FlinksSimulator("fault-client", CLIENT_SECRET, rows=seed_rows(3, _rng())) as sim:
        env = service_env(db_url, sim.base_url)
        assert run(env, tmp_path, "poll").returncode == 0
        move(sim, 0)
        assert run(env, tmp_path, "poll").returncode == 0
    hostile = [
        ("--client-id", "x' OR '1'='1"),
        ("--client-id", "'; DROP TABLE registration_events; --"),
        ("--provider", "' OR 1=1 --"),
        ("--status", "%"),
    ]
    for flag, value in hostile:
        done = run(env, tmp_path, "history", flag, value, "--format", "json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == [], f"{flag} {value!r} matched rows"
    # An event kind is checked against the known kinds before any query (issue 15).
    done = run(env, tmp_path, "history", "--event", "status_changed' OR 'a'='a")
    assert (done.returncode, done.stdout) == (2, "")
    everything = run(env, tmp_path, "history", "--format", "json")
    assert len(json.loads(everything.stdout)) == 4, "the tables are intact (3 baseline, 1 move)"


# ---- the HTTP server: health and counters, nothing else --------------------------------------
def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_http_server_shows_no_registration_data(
    sqlite_url: str, launcher: Launcher, tmp_path: Path
) -> None:
    rows = seed_rows(5, _rng())
    port = free_port()
    with FlinksSimulator("fault-client", CLIENT_SECRET, rows=rows) as sim:
        env = service_env(sqlite_url, sim.base_url, {"HTTP_PORT": str(port)})
        service = launcher.start(env)
        wait_until(lambda: sim.listing_requests >= 2, 30, "two polls")
        move(sim, 1)
        wait_until(lambda: sim.listing_requests >= 4, 30, "the move to be seen")
        pages = {path: _get(port, path) for path in _PATHS}
        assert service.terminate() == 0
    assert pages["/healthz"][0] == 200
    assert pages["/metrics"][0] == 200
    assert "flinkswatch_leader 1.0" in pages["/metrics"][1]
    for path in _PATHS[3:]:
        assert pages[path][0] == 404, path
    served = "\n".join(body for _, body in pages.values())
    for row in rows:
        for field in ("client_id", "client_name", "provider_name"):
            assert str(row[field]) not in served, f"{field} exposed over HTTP"
    assert CLIENT_SECRET not in served
    assert sqlite_url.removeprefix("sqlite:///") not in served


_PATHS = ("/healthz", "/readyz", "/metrics", "/", "/registrations", "/status", "/debug", "/.env")
