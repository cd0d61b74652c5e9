"""Issue 27 item 1: a newcomer's typo is named on the first `check` and at the start of every
command, with the closest setting, and never changes an exit status; a STUCK_AFTER status no
registration can be in is named too. Through the installed `flinkswatch` command."""

from __future__ import annotations

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import SEED_ROWS, World

pytestmark = pytest.mark.e2e

WARN = "WARN  settings: "


def _warnings(text: str) -> list[str]:
    return [
        line for line in text.splitlines() if "unknown setting" in line or "STUCK_AFTER" in line
    ]


def test_a_typo_in_dotenv_is_named_by_check_with_the_setting_meant(sqlite_world: World) -> None:
    env_file = sqlite_world.cwd / ".env"
    env_file.write_text("POLL_INTERVALL_SECONDS=10\n", encoding="utf-8")
    result = sqlite_world.run("check")
    assert result.returncode == 0, result.stdout + result.stderr  # a warning, not a failure
    assert _warnings(result.stdout) == [
        f"{WARN}unknown setting POLL_INTERVALL_SECONDS: did you mean POLL_INTERVAL_SECONDS?"
        f" (set in {env_file}, not applied)"
    ]
    assert "ok    settings: valid" in result.stdout.splitlines()
    assert _warnings(result.stderr) == []  # named once, among check's lines


def test_a_typo_in_the_environment_is_named_once_at_the_start_of_every_command(
    sqlite_world: World,
) -> None:
    typo = {"SLACK_WEBHOOK": "https://hooks.example/T0/B0/secret"}
    line = (
        "unknown setting SLACK_WEBHOOK: did you mean SLACK_WEBHOOK_URL?"
        " (set in the environment, not applied)"
    )
    checked = sqlite_world.run("check", **typo)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _warnings(checked.stdout) == [WARN + line]
    polled = sqlite_world.run("poll", **typo)
    assert polled.returncode == 0, polled.stderr
    assert [w.split(" WARNING ", 1)[1] for w in _warnings(polled.stderr)] == [
        f"settings.unknown {line}"
    ]
    status = sqlite_world.run("status", **typo)
    assert status.returncode == 0
    assert len(_warnings(status.stderr)) == 1
    assert "https://hooks.example" not in polled.stderr + status.stderr + checked.stdout


def test_platform_variables_and_secret_files_never_change_the_outcome(sqlite_world: World) -> None:
    secret = sqlite_world.cwd / "flinks-secret"
    secret.write_text(sqlite_world.env.pop("FLINKS_CLIENT_SECRET") + "\n", encoding="utf-8")
    env = {
        "FLINKS_CLIENT_SECRET_FILE": str(secret),  # a setting: never warned about
        "WEB_PORT": "tcp://10.0.0.7:80",  # Kubernetes, for a service named `web`
        "http_proxy": "",  # httpx's own, whatever the case
        "FLINKSWATCH_HOME": "/srv",  # not one of our prefixes
    }
    result = sqlite_world.run("check", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _warnings(result.stdout) == [
        f"{WARN}unknown setting WEB_PORT: no setting has a name like it"
        " (set in the environment, not applied)"
    ]


def test_a_stuck_after_status_no_registration_can_have_is_named(
    sqlite_world: World, flinks: FlinksSimulator
) -> None:
    typo = {"STUCK_AFTER": "PENDING_APROVAL=7d"}
    checked = sqlite_world.run("check", **typo)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (warning,) = _warnings(checked.stdout)
    assert warning.startswith(f"{WARN}STUCK_AFTER names PENDING_APROVAL, a status no registration")
    assert "did you mean PENDING_APPROVAL?" in warning
    polled = sqlite_world.run("poll", **typo)
    assert polled.returncode == 0, polled.stderr
    (logged,) = _warnings(polled.stderr)
    assert "settings.stuck_status STUCK_AFTER names PENDING_APROVAL" in logged


def test_a_status_the_database_has_seen_is_not_a_typo(
    sqlite_world: World, flinks: FlinksSimulator
) -> None:
    flinks.set_rows([{**SEED_ROWS[0], "registration_status": "SUSPENDED"}, SEED_ROWS[1]])
    assert sqlite_world.run("poll").returncode == 0
    seen = sqlite_world.run("check", STUCK_AFTER="SUSPENDED=3d")
    assert seen.returncode == 0, seen.stdout + seen.stderr
    assert _warnings(seen.stdout) == []
    polled = sqlite_world.run("poll", STUCK_AFTER="SUSPENDED=3d")
    assert _warnings(polled.stderr) == []
    typo = sqlite_world.run("check", STUCK_AFTER="SUSPENDD=3d")
    (warning,) = _warnings(typo.stdout)
    assert "did you mean SUSPENDED?" in warning
