"""The installed command with Apprise URLs and the signed webhook: `poll` delivers the baseline
summary and then a move to each, `check` and `notify-test` cover every URL, and no command
prints any part of a URL but its scheme and host."""

from __future__ import annotations

import base64

from standardwebhooks import Webhook

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World
from tests.e2e.test_cli_e2e import move
from tests.fakes.receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"e2e-webhook-key-of-32-bytes-long").decode()
TOKENS = ("apprise-e2e-tok3n", "apprise-e2e-passw0rd", "hook-e2e-tok3n")


def test_apprise_and_webhook_from_the_command_line(
    sqlite_world: World, flinks: FlinksSimulator
) -> None:
    with Receiver() as apprise_in, Receiver(verify=Webhook(SECRET).verify) as hook_in:
        sqlite_world.env |= {
            "APPRISE_URLS": f"json://bot:{TOKENS[1]}@{apprise_in.host}/{TOKENS[0]}"
            f" form://{apprise_in.host}/form",
            "WEBHOOK_URL": hook_in.url(f"/in/{TOKENS[2]}"),
            "WEBHOOK_SECRET": SECRET,
        }
        check = sqlite_world.run("check")
        test = sqlite_world.run("notify-test")
        first = sqlite_world.run("poll")
        move(flinks, 2000, "PENDING_ACTIVATION")
        second = sqlite_world.run("poll")
        routes = sqlite_world.run("routes", "--provider", "NBC")
        deliveries = sqlite_world.run("deliveries", "--format", "json")
        apprise_got, hooks = list(apprise_in.accepted), list(hook_in.accepted)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("configured (it can only be verified by sending") == 2
    assert "ok    webhook: http://127.0.0.1 configured, signed" in check.stdout
    assert test.returncode == 0, test.stdout + test.stderr
    assert test.stdout.count("ok    apprise:") == 2
    assert "(json://127.0.0.1)" in test.stdout
    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    # Per URL: the sample, the baseline summary, the move; the webhook the same three.
    assert len(apprise_got) == 6
    assert [r.json()["type"] for r in hooks[1:]] == [
        "watcher.baseline",
        "registration.status_changed",
    ]
    assert hook_in.verify_errors == []
    assert hooks[2].json()["data"]["to_status"] == "PENDING_ACTIVATION"
    everything = "".join(r.stdout + r.stderr for r in (check, test, first, second, routes))
    for token in TOKENS:
        assert token not in everything + deliveries.stdout, token


def test_a_url_apprise_cannot_use_stops_check_and_poll_with_one_line(sqlite_world: World) -> None:
    sqlite_world.env["APPRISE_URLS"] = f"discrod://{TOKENS[0]}/{TOKENS[1]}"
    check = sqlite_world.run("check")
    poll = sqlite_world.run("poll")
    expected = "URL 1 (discrod://...) is not one Apprise can use"
    assert check.returncode != 0
    assert f"FAIL  settings: APPRISE_URLS/APPRISE_ROUTES: {expected}" in check.stdout
    assert poll.returncode == 2, poll.stderr
    assert expected in poll.stderr
    assert "Traceback" not in poll.stderr + check.stderr
    for token in TOKENS[:2]:
        assert token not in check.stdout + check.stderr + poll.stdout + poll.stderr
