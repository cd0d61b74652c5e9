"""Issue 27 item 2: `check` refuses every setting `run` (and `poll`) would refuse, with the same
line and exit 2, through the installed command. The cases come from the one list of
validations (app/wiring/validations.py): a validation without an example here fails the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.wiring.validations import VALIDATIONS
from tests.e2e.conftest import World

pytestmark = pytest.mark.e2e

CONFIG_ERROR = "flinkswatch: configuration error: "

# Settings each validation refuses: at least one example per entry of VALIDATIONS.
EXAMPLES: dict[str, list[dict[str, str]]] = {
    "web page": [
        {"WEB_UI": "true", "WEB_USERNAME": "ops"},  # basic without a password
        {"WEB_UI": "true", "WEB_AUTH": "none", "HTTP_HOST": "0.0.0.0"},  # noqa: S104 - refused
    ],
    "slack destinations": [
        {"SLACK_ROUTES": "provider=NBC:#nbc"},
        {"SLACK_BOARD": "true", "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook"},
    ],
    "email destinations": [{"EMAIL_ROUTES": "country=US:us@example.com"}],
    "apprise destinations": [{"APPRISE_URLS": "nosuch://example.invalid/x"}],
    "slack interactivity": [{"SLACK_SIGNING_SECRET": "0123456789abcdef", "HTTP_PORT": "0"}],
    "flinks credentials": [{"FLINKS_CLIENT_SECRET": ""}],
    "flinks ca bundle": [{"FLINKS_CA_BUNDLE": "/nonexistent/ca.pem"}],
}
# A value one field judges alone is refused while the settings load, for every command alike.
FIELD_EXAMPLES: list[dict[str, str]] = [
    {"QUIET_HOURS": "mon-fri 25:00-08:00"},
    {"DIGEST_SCHEDULE": "0 9 * *"},
    {"STUCK_AFTER": "PENDING_APPROVAL"},
    {"WEB_AUTH": "digest"},
    {"WEBHOOK_SECRET": "short", "WEBHOOK_URL": "http://127.0.0.1:9/hook"},
]
CASES = [
    pytest.param(validation.name, env, id=f"{validation.name}-{n}")
    for validation in VALIDATIONS
    for n, env in enumerate(EXAMPLES.get(validation.name, [{}]))
]


def _refusal(world: World, command: str, env: dict[str, str]) -> str:
    """The one line `command` refuses to start with (exit 2), nothing created."""
    result = world.run(command, timeout=30, **env)
    assert result.returncode == 2, (command, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(CONFIG_ERROR), lines
    db_file = Path(world.env["DATABASE_URL"].removeprefix("sqlite:///"))
    assert not db_file.exists(), f"{command} opened the database before refusing"
    return lines[0].removeprefix(CONFIG_ERROR)


def test_every_validation_has_an_example() -> None:
    assert set(EXAMPLES) == {validation.name for validation in VALIDATIONS}


@pytest.mark.parametrize(("name", "env"), CASES)
def test_check_refuses_what_run_and_poll_refuse(
    sqlite_world: World, name: str, env: dict[str, str]
) -> None:
    assert env, f"validation {name!r} has no example in EXAMPLES"
    message = _refusal(sqlite_world, "run", env)
    assert _refusal(sqlite_world, "poll", env) == message
    checked = sqlite_world.run("check", timeout=30, **env)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert f"FAIL  settings: {message}" in checked.stdout.splitlines()
    assert checked.stderr == ""  # the verdicts are the report's lines, nothing else


@pytest.mark.parametrize("env", FIELD_EXAMPLES, ids=lambda env: next(iter(env)))
def test_a_bad_value_is_refused_alike_by_check_and_run(
    sqlite_world: World, env: dict[str, str]
) -> None:
    message = _refusal(sqlite_world, "run", env)
    assert message.startswith(f"{next(iter(env))}: ")
    assert _refusal(sqlite_world, "check", env) == message


@pytest.mark.parametrize("state", ["no database file", "never migrated"])
def test_with_auto_migrate_off_check_refuses_the_database_run_refuses(
    sqlite_world: World, state: str
) -> None:
    if state == "never migrated":
        Path(sqlite_world.env["DATABASE_URL"].removeprefix("sqlite:///")).touch()
    env = {"AUTO_MIGRATE": "false"}
    ran = sqlite_world.run("run", timeout=30, **env)
    assert ran.returncode == 2, ran.stderr
    (line,) = ran.stderr.strip().splitlines()
    message = line.removeprefix(CONFIG_ERROR)
    assert message != line
    checked = sqlite_world.run("check", timeout=30, **env)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert f"FAIL  database: {message}" in checked.stdout.splitlines()
