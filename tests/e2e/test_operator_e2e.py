"""Issue 15, an operator's first day: read commands never create a database, `check` gives one
verdict per line and validates every setting before touching anything, `notify-test` says when
Slack is off, typos in filters are named, `routes` explains where an alert goes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World

pytestmark = pytest.mark.e2e

READ_COMMANDS = ("status", "history", "deliveries")


def _bare(tmp_path: Path) -> World:
    """A user in an empty folder with nothing set: the default DATABASE_URL, no .env."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return World(cwd=folder)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_a_read_command_in_an_empty_folder_creates_nothing_and_says_where_it_looked(
    tmp_path: Path, command: str
) -> None:
    bare = _bare(tmp_path)
    result = bare.run(command)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line.startswith("flinkswatch: configuration error: no database at ")
    for fact in ("sqlite:///./data/flinkswatch.db", str(bare.cwd), "settings file: none"):
        assert fact in line, (fact, line)
    assert "flinkswatch migrate" in line
    assert list(bare.cwd.iterdir()) == []  # no ./data, no database file


def test_the_message_names_the_env_file_that_was_read(tmp_path: Path) -> None:
    bare = _bare(tmp_path)
    (bare.cwd / ".env").write_text("DATABASE_URL=sqlite:///./state/watch.db\n", encoding="utf-8")
    line = _one_line(bare.run("status").stderr)
    assert "sqlite:///./state/watch.db" in line
    assert f"settings file: {bare.cwd / '.env'}" in line
    assert not (bare.cwd / "state").exists()


def test_an_unmigrated_database_is_named_with_its_password_hidden(world: World) -> None:
    url = world.env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).touch()  # exists, but was never migrated
    result = world.run("history")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "has no current flinkswatch schema" in line
    assert str(world.cwd) in line
    if "@" in url:  # PostgreSQL: the password never shows
        password = url.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
        assert password
        assert f":{password}@" not in line
        assert ":***@" in line


def _lines(stdout: str) -> list[str]:
    lines = stdout.strip().splitlines()
    assert all(line.startswith(("ok  ", "FAIL")) for line in lines), lines
    return lines


def test_check_with_slack_half_set_up_gives_one_verdict_and_touches_nothing(
    sqlite_world: World, flinks: FlinksSimulator
) -> None:
    result = sqlite_world.run("check", SLACK_CHANNEL="C0ALERTS")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = _lines(result.stdout)
    assert lines == [
        "FAIL  settings: channel off: Slack bot needs both SLACK_BOT_TOKEN and SLACK_CHANNEL"
    ]
    assert result.stderr == ""  # no log line mixed into the report
    assert flinks.token_requests == 0
    db_file = Path(sqlite_world.env["DATABASE_URL"].removeprefix("sqlite:///"))
    assert not db_file.exists()


def test_check_reports_a_bad_route_before_any_side_effect(
    sqlite_world: World, flinks: FlinksSimulator
) -> None:
    result = sqlite_world.run("check", SLACK_ROUTES="provider=NBC:#nbc")
    assert result.returncode == 2, result.stdout + result.stderr
    assert _lines(result.stdout) == [
        "FAIL  settings: SLACK_ROUTES: needs SLACK_BOT_TOKEN and SLACK_CHANNEL"
    ]
    assert flinks.token_requests == 0
    db_file = Path(sqlite_world.env["DATABASE_URL"].removeprefix("sqlite:///"))
    assert not db_file.exists()


def test_check_on_a_good_setup_does_not_create_the_database(sqlite_world: World) -> None:
    result = sqlite_world.run("check")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result.stdout)
    assert lines[0] == "ok    settings: valid"
    db_file = Path(sqlite_world.env["DATABASE_URL"].removeprefix("sqlite:///"))
    assert any(
        line.startswith("ok    database: no database file yet") and str(db_file) in line
        for line in lines
    ), lines
    assert not db_file.exists()
    assert "ok    alerts: no channel configured, alerts go to the console log" in lines


def test_poll_with_a_bad_route_stops_before_migrating(sqlite_world: World) -> None:
    result = sqlite_world.run("poll", SLACK_ROUTES="provider=NBC:#nbc")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "SLACK_ROUTES: needs SLACK_BOT_TOKEN and SLACK_CHANNEL" in line
    assert not Path(sqlite_world.env["DATABASE_URL"].removeprefix("sqlite:///")).exists()


@pytest.mark.parametrize("dry_run", [False, True])
def test_notify_test_says_slack_is_off_and_why(sqlite_world: World, dry_run: bool) -> None:
    args = ("notify-test", "--dry-run") if dry_run else ("notify-test",)
    result = sqlite_world.run(*args, SLACK_CHANNEL="C0ALERTS")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == [
        "FAIL  settings: channel off: Slack bot needs both SLACK_BOT_TOKEN and SLACK_CHANNEL"
    ]
    line = _one_line(result.stderr)
    assert line == "flinkswatch: configuration error: nothing sent: fix the settings above"
    assert "console: sent" not in result.stdout


def test_history_rejects_an_unknown_event_kind(world: World) -> None:
    assert world.run("poll").returncode == 0
    result = world.run("history", "--event", "bogus")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "'bogus'" in line
    for kind in ("added", "status_changed", "removed", "reappeared", "baseline"):
        assert kind in line
    assert result.stdout == ""


def test_a_status_no_registration_ever_had_is_said(world: World) -> None:
    assert world.run("poll").returncode == 0
    for command in ("status", "history"):
        result = world.run(command, "--status", "NOPE")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "(none)"
        line = _one_line(result.stderr)
        assert "no registration has ever had status 'NOPE'" in line
        assert "PENDING_APPROVAL" in line  # the statuses seen, to spot the typo
    known = world.run("status", "--status", "PENDING_APPROVAL", "--format", "json")
    assert len(json.loads(known.stdout)) == 2
    assert known.stderr == ""


@pytest.mark.parametrize("command", ["status", "history", "deliveries"])
def test_help_describes_every_option(sqlite_world: World, command: str) -> None:
    result = sqlite_world.run(command, "--help")
    assert result.returncode == 0
    options = result.stdout.split("options:", 1)[1]
    entries: list[list[str]] = []
    for line in options.splitlines():
        if line.startswith("  -"):
            entries.append([line])
        elif line.strip() and entries:
            entries[-1].append(line)
    assert len(entries) >= 4
    for entry in entries:
        first = entry[0].strip()
        # "--flag VALUE  description" on one line, or the description on the next ones.
        described = "  " in first or len(entry) > 1
        assert described, entry


def test_routes_says_which_channel_gets_an_alert_and_by_which_rule(
    tmp_path: Path, sqlite_world: World
) -> None:
    sqlite_world.env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-routes",
            "SLACK_CHANNEL": "#all",
            "SLACK_ROUTES": "provider=NBC:#nbc",
            "SMTP_HOST": "smtp.example.com",
            "EMAIL_FROM": "fw@example.com",
            "EMAIL_TO": "ops@example.com",
            "EMAIL_ROUTES": "country=US:us@example.com",
            "ROUTES_DEFAULT": "unmatched",
        }
    )
    result = sqlite_world.run("routes", "--provider", "NBC", "--country", "CA")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "no    slack (#all): ROUTES_DEFAULT=unmatched: SLACK_ROUTES rule 1 (provider=nbc)"
        " sends it to #nbc instead",
        "yes   slack:#nbc (#nbc): SLACK_ROUTES rule 1 (provider=nbc)",
        "yes   email (ops@example.com): the default channel: no rule sends it elsewhere"
        " (ROUTES_DEFAULT=unmatched)",
        "no    email:us@example.com (us@example.com): no EMAIL_ROUTES rule for it matches",
        "ROUTES_DEFAULT=unmatched: SLACK_CHANNEL and EMAIL_TO get only the alerts no rule sends"
        " elsewhere; a channel of a rule never gets the first-sync summary",
    ]
    assert result.stderr == ""
    assert not Path(sqlite_world.env["DATABASE_URL"].removeprefix("sqlite:///")).exists()


def test_routes_with_no_channel_says_console(tmp_path: Path) -> None:
    result = _bare(tmp_path).run("routes", "--client", "dc-x")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "yes   console: no channel configured, alerts go to the console log"
    assert list(_bare_folder(tmp_path).iterdir()) == []


def _bare_folder(tmp_path: Path) -> Path:
    return tmp_path / "elsewhere"


def test_a_retried_request_logs_what_and_why_and_stamina_stays_quiet(
    sqlite_world: World, flinks: FlinksSimulator
) -> None:
    """Issue 15 item 5: `poll` through two 503s says, per retry, the target, the attempt, the
    wait and the cause; the library's bare `stamina.retry_scheduled` lines are gone."""
    flinks.fail_next(2, 503, headers={"Retry-After": "0"})
    result = sqlite_world.run("poll")
    assert result.returncode == 0, result.stderr
    retries = [line for line in result.stderr.splitlines() if " flinks.retry " in line]
    assert len(retries) == 2, result.stderr
    for n, line in enumerate(retries, start=2):
        assert "method=GET target=127.0.0.1:" in line
        assert f"/providers/requests attempt={n}/4 wait=0.0s cause='HTTP 503'" in line
    assert "stamina" not in result.stderr
