"""`flinkswatch ack` as a user runs it (SPEC 4 and 12): take a registration, see who took it in
`status` and `history`, lift it; an unknown registration is one line, exit 2, nothing recorded."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.e2e

CLIENT = "dc-alphalendingxxxxxxxxxxxxx"


def acknowledged(world: World) -> list[dict[str, object]]:
    done = world.run("history", "--format", "json", "--event", "acknowledged")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_ack_shows_in_status_and_history_and_clear_lifts_it(world: World) -> None:
    assert world.run("poll").returncode == 0
    took = world.run("ack", CLIENT, "2000", "--for", "3d", "--note", "calling NBC", "--by", "Ana")
    assert took.returncode == 0, took.stderr
    assert "acknowledged by Ana" in took.stdout
    assert "calling NBC" in took.stdout
    status = json.loads(world.run("status", "--format", "json").stdout)
    shown = {row["provider_id"]: row["acknowledged"] for row in status}
    assert shown[2000]["by"] == "Ana"
    assert shown[2000]["note"] == "calling NBC"
    assert shown[2000]["until"] is not None
    assert [v for k, v in shown.items() if k != 2000] == [None] * (len(shown) - 1)
    [event] = acknowledged(world)
    assert (event["by"], event["note"]) == ("Ana", "calling NBC")
    assert event["until"] == shown[2000]["until"]
    table = world.run("status").stdout
    assert "Ana until" in table

    lifted = world.run("ack", "--clear", CLIENT, "2000")
    assert lifted.returncode == 0, lifted.stderr
    assert "lifted" in lifted.stdout
    status = json.loads(world.run("status", "--format", "json").stdout)
    assert all(row["acknowledged"] is None for row in status)
    assert len(acknowledged(world)) == 2
    again = world.run("ack", "--clear", CLIENT, "2000")
    assert again.returncode == 0
    assert "nothing to clear" in again.stdout
    assert len(acknowledged(world)) == 2


def test_unknown_registration_is_one_line_exit_2_nothing_recorded(world: World) -> None:
    assert world.run("poll").returncode == 0
    done = world.run("ack", "no-such-client", "2000")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "no registration" in done.stderr
    assert "Traceback" not in done.stderr
    bad = world.run("ack", CLIENT, "2000", "--for", "soon")
    assert bad.returncode == 2
    assert "not a duration" in bad.stderr
    assert acknowledged(world) == []
