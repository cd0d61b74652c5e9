"""Issue 27 item 6, small things people hit: `--since 7d` (a duration back from now, as the
rest of the product speaks), `yesterday` refused with the forms accepted, and `poll`/`run` in
the wrong folder naming where they looked; item 5: the demo serves the web page as the README
says. Through the installed `flinkswatch` command."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import World
from tests.e2e.test_service_e2e import wait_until
from tests.fakes.smtp_server import free_port

pytestmark = pytest.mark.e2e


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_history_since_takes_a_duration_back_from_now(world: World) -> None:
    assert world.run("poll").returncode == 0
    week = world.run("history", "--since", "7d", "--format", "json")
    assert week.returncode == 0, week.stderr
    assert [row["event"] for row in json.loads(week.stdout)] == ["baseline", "baseline"]
    now = world.run("history", "--since", "0s", "--format", "json")
    assert now.returncode == 0, now.stderr
    assert json.loads(now.stdout) == []  # nothing observed after the command started
    assert (
        len(json.loads(world.run("history", "--since", "2020-01-01", "--format", "json").stdout))
        == 2
    )


@pytest.mark.parametrize("command", ["history", "digest"])
def test_since_yesterday_is_refused_with_the_forms_accepted(world: World, command: str) -> None:
    assert world.run("poll").returncode == 0
    result = world.run(command, "--since", "yesterday")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line.startswith("flinkswatch: --since: not an ISO 8601 date or time nor a duration")
    for form in ("'yesterday'", "2026-11-01", "2026-11-01T09:00", "7d"):
        assert form in line, (form, line)
    assert result.stdout == ""


def test_digest_since_takes_a_duration_too(world: World) -> None:
    assert world.run("poll").returncode == 0
    result = world.run("digest", "--since", "7d", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("command", ["poll", "run"])
def test_poll_and_run_in_the_wrong_folder_say_where_they_looked(
    tmp_path: Path, command: str
) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    result = World(cwd=folder, env={"HTTP_PORT": "0"}).run(command, timeout=30)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line == (
        "flinkswatch: configuration error: FLINKS_CLIENT_ID and FLINKS_CLIENT_SECRET must be set"
        f" (or given as <NAME>_FILE; working directory {folder}, settings file: none)"
    )
    assert list(folder.iterdir()) == []  # refused before a database was created


def _board(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
            return str(answer.read().decode())
    except OSError:
        return ""


def test_the_demo_serves_the_web_page_as_the_readme_says(tmp_path: Path) -> None:
    port = free_port()  # the README's 8080, on a port free here
    demo = World(cwd=tmp_path).popen(
        "demo", "--interval", "1", WEB_UI="true", WEB_AUTH="none", HTTP_PORT=str(port)
    )
    try:
        wait_until(lambda: "<title>Board · flinkswatch" in _board(port), timeout=60)
        wait_until(lambda: "(none)" not in _board(port) and "/r/" in _board(port), timeout=60)
        demo.send_signal(signal.SIGTERM)
        _out, err = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, err
    assert f"http.listening host=127.0.0.1 port={port} web_ui=on" in err


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--interval", "99999999999999999999", "99999999999999999999 is not between 1 and 2592000"),
        ("--interval", "0", "0 is not between 1 and 2592000"),
        ("--cycles", "soon", "'soon' is not a whole number"),
    ],
)
def test_a_demo_option_out_of_range_is_refused_before_anything_starts(
    world: World, option: str, value: str, says: str
) -> None:
    result = world.run("demo", option, value)
    assert result.returncode == 2
    assert result.stderr.strip().endswith(f"error: argument {option}: {says}")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
