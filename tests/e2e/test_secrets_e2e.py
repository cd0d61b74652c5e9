"""Secrets through the installed `flinkswatch` command: an access token that Flinks quotes back
in an error reaches no page, no row, no alert, no log line; `/healthz` names a failure's kind,
never upstream text; a password of one to three characters is never shown and garbles nothing;
a DATABASE_URL whose password holds a raw `@` is one line naming the fix."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import World
from tests.fakes.recorder import EchoingFlinks, Recorder, answer
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def echoing() -> Iterator[EchoingFlinks]:
    with EchoingFlinks() as fake:
        yield fake


def _get(port: int, path: str) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer_:
            return str(answer_.read().decode())
    except urllib.error.HTTPError as exc:  # /healthz answers 503 while no poll succeeded
        return str(exc.read().decode())


def _failed_health(port: int, timeout: float = 20.0) -> dict[str, object]:
    """/healthz once it reports a failed cycle (the alert may go out before it is recorded)."""
    deadline = time.monotonic() + timeout
    while True:
        health: dict[str, object] = json.loads(_get(port, "/healthz"))
        if health.get("last_outcome") == "failed" or time.monotonic() > deadline:
            return health
        time.sleep(0.05)  # polling a real server's answer: there is no event to wait on


def test_an_obtained_token_quoted_back_by_flinks_is_nowhere(
    tmp_path: Path, echoing: EchoingFlinks, slack: FakeSlack
) -> None:
    port = free_port()
    world = World(
        cwd=tmp_path,
        env={
            "FLINKS_CLIENT_ID": "partner-id",
            "FLINKS_CLIENT_SECRET": "partner-secret-value",
            "FLINKS_BASE_URL": echoing.url,
            "FLINKS_TOKEN_URL": echoing.url + EchoingFlinks.TOKEN_PATH,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fw.db'}",
            "HTTP_PORT": str(port),
            "POLL_INTERVAL_SECONDS": "1",
            "BLIND_AFTER_FAILURES": "1",
            "WEB_UI": "true",
            "WEB_AUTH": "none",
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_CHANNEL": "C0ALERTS",
            "SLACK_API_URL": slack.api_url,
        },
    )
    proc = world.popen("run")
    try:
        (alert,) = slack.wait_for(1, timeout=30)
        health = _failed_health(port)
        pages = [
            _get(port, p) for p in ("/activity", "/metrics", "/activity?list=polls&format=json")
        ]
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    with sqlite3.connect(tmp_path / "fw.db") as conn:
        errors = [row[0] for row in conn.execute("SELECT error FROM poll_runs")]
        notices = [row[0] for row in conn.execute("SELECT last_error FROM watcher_notices")]

    assert echoing.tokens, "tokens were obtained (so the search means something)"
    assert errors
    assert all("Flinks refused GET" in e and "[REDACTED]" in e for e in errors), errors
    assert "rejected [REDACTED]" in errors[0]
    assert health["last_error_kind"] == "flinks_request"
    assert "last_error" not in health
    assert "blind" in alert.text
    everything = "\n".join([*errors, *notices, json.dumps(health), *pages, alert.text, stderr])
    for token in echoing.tokens:
        assert token not in everything
    assert "tok-19" not in everything


def _flinks_refusing(secret_echo: str) -> Recorder:
    """A token endpoint refusing the credentials with a description quoting the secret."""
    refusal = {"error": "invalid_client", "error_description": secret_echo}
    return Recorder({EchoingFlinks.TOKEN_PATH: answer(401, refusal)})


@pytest.mark.parametrize("secret", ["o", "ab", "xyz"])
def test_a_short_client_secret_is_never_shown_and_garbles_nothing(
    tmp_path: Path, secret: str
) -> None:
    echo = f"client_secret {secret} is wrong for the connection about to be made"
    with _flinks_refusing(echo) as flinks:
        world = World(
            cwd=tmp_path,
            env={
                "FLINKS_CLIENT_ID": "partner-id",
                "FLINKS_CLIENT_SECRET": secret,
                "FLINKS_BASE_URL": flinks.url,
                "FLINKS_TOKEN_URL": flinks.url + EchoingFlinks.TOKEN_PATH,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'fw.db'}",
            },
        )
        done = world.run("poll")
    assert done.returncode == 1
    assert "client_secret [REDACTED] is wrong for the connection about" in done.stderr
    assert f" {secret} " not in done.stderr


@pytest.mark.parametrize("password", ["o", "pw", "abc"])
def test_a_short_database_password_is_never_shown_and_garbles_nothing(
    sqlite_world: World, password: str
) -> None:
    url = f"postgresql://flinkswatch:{password}@127.0.0.1:{free_port()}/fw"
    done = sqlite_world.run("status", DATABASE_URL=url)
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert "connection failed: connection to server at" in line
    assert "port" in line
    assert "***" not in line.split("@", 1)[1], line  # nothing garbled after the URL
    assert f":{password}@" not in line


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://flinks:Db@SekretPw1@127.0.0.1:47199/fw",
        "postgresql://flinks:Db@Sekret:Pw1@127.0.0.1/fw",
    ],
)
@pytest.mark.parametrize("command", ["status", "check", "poll"])
def test_a_password_with_a_raw_at_is_one_line_naming_the_fix(
    sqlite_world: World, url: str, command: str
) -> None:
    done = sqlite_world.run(command, DATABASE_URL=url)
    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert "URL-encode special characters in the password: @ is %40" in output
    assert "Traceback" not in output
    for part in ("Sekret", "Pw1", "Db@", ":Db"):
        assert part not in output
    assert len(done.stderr.strip().splitlines()) == 1
